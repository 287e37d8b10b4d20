import { init, MySqlDialect, Parser } from '@guanmingchiu/sqlparser-ts';

/**
 * sqlparser-rs (Apache DataFusion's SQL parser, compiled to WebAssembly) in
 * its MySQL dialect. Chosen over node-sql-parser, which reads `--x` as a
 * comment where MySQL reads `- -x` (a table after it goes unseen) and keeps
 * doubled backticks in table names; sqlparser-rs reads both as the server
 * does. Statements it cannot parse (HANDLER, LOAD DATA, DO, …) are refused.
 */

let parser: Parser | null = null;
let loading: Promise<void> | null = null;

/** Nesting deeper than this is refused instead of exhausting the parser's stack. */
const RECURSION_LIMIT = 64;

export function loadMysqlParser(): Promise<void> {
  loading ??= init().then(() => {
    parser = new Parser(new MySqlDialect()).withRecursionLimit(RECURSION_LIMIT);
  });
  return loading;
}

export function isMysqlParserReady(): boolean {
  return parser !== null;
}

/** The statements of `text` (comments already removed by the lexer); throws when it does not parse. */
export function parseMysql(text: string): unknown[] {
  if (parser === null) throw new Error('the MySQL parser is not loaded yet');
  return parser.parse(text) as unknown[];
}

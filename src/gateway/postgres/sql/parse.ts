import createPgQueryModule, { type PgQueryWasm } from 'libpg-query/wasm/libpg-query.js';

/**
 * The only place that touches the WASM parser. Everything downstream works on
 * plain JSON trees (`AstNode`), so the policy never depends on the parser's
 * generated TypeScript types, which describe what *should* be there rather
 * than what the walker must defend against.
 *
 * libpg-query's own wrapper keeps one module instance for the process. A
 * statement nested deeply enough overflows the stack inside WASM, and the
 * instance is left corrupt: every later parse fails, which would refuse every
 * statement of every session. So this module drives the Emscripten factory
 * itself, keeps a warm spare instance, and swaps to it after any failure that
 * is not an ordinary syntax error.
 */

/** A wrapped parse-tree node, e.g. `{ SelectStmt: { ... } }`, or an inline struct. */
export type AstNode = { readonly [key: string]: unknown };

export type ParseOutcome =
  | { readonly ok: true; readonly statements: readonly AstNode[] }
  /** `transient`: the same text may parse a moment later (an instance is being rebuilt), so do not cache. */
  | { readonly ok: false; readonly message: string; readonly transient?: boolean };

let current: PgQueryWasm | undefined;
let spare: PgQueryWasm | undefined;
let spareLoading: Promise<void> | undefined;
let loading: Promise<void> | undefined;

function loadSpare(): Promise<void> {
  spareLoading ??= createPgQueryModule().then(
    (m) => {
      spare = m;
      spareLoading = undefined;
    },
    () => {
      spareLoading = undefined;
    },
  );
  return spareLoading;
}

/**
 * Loads the parser (and its spare) once; call at startup so the first
 * statement pays nothing. After a failure it resolves when a working
 * instance is back.
 */
export function loadSqlParser(): Promise<void> {
  if (current !== undefined && spare !== undefined) return Promise.resolve();
  if (current === undefined && loading === undefined) {
    loading = createPgQueryModule().then((m) => {
      current = m;
    });
    return loading.then(loadSpare);
  }
  const pending = current === undefined ? loading : undefined;
  return Promise.all([pending, loadSpare()]).then(() => {
    if (current === undefined) promoteSpare();
  });
}

/** True when a statement can be parsed right now, without waiting. */
export function isSqlParserReady(): boolean {
  return current !== undefined;
}

function promoteSpare(): void {
  current = spare;
  spare = undefined;
  void loadSpare();
}

let restarts = 0;

/** How many parser instances were discarded after a failure; for metrics and tests. */
export function sqlParserRestarts(): number {
  return restarts;
}

/** Discards a possibly corrupt instance; the spare takes over at once and another is built behind it. */
function replaceInstance(): void {
  restarts++;
  current = undefined;
  if (spare !== undefined) {
    promoteSpare();
    return;
  }
  void loadSpare().then(() => {
    if (current === undefined && spare !== undefined) promoteSpare();
  });
}

class SyntaxErrorFromParser extends Error {}

function parseJson(m: PgQueryWasm, sql: string): unknown {
  const len = m.lengthBytesUTF8(sql) + 1;
  const queryPtr = m._malloc(len);
  let resultPtr = 0;
  try {
    m.stringToUTF8(sql, queryPtr, len);
    resultPtr = m._wasm_parse_query_raw(queryPtr);
    if (resultPtr === 0) throw new Error('parser out of memory');
    const treePtr = m.getValue(resultPtr, 'i32');
    const errorPtr = m.getValue(resultPtr + 8, 'i32');
    if (errorPtr !== 0) {
      const messagePtr = m.getValue(errorPtr, 'i32');
      throw new SyntaxErrorFromParser(messagePtr !== 0 ? m.UTF8ToString(messagePtr) : 'unknown parser error');
    }
    if (treePtr === 0) throw new Error('parser returned no tree');
    return JSON.parse(m.UTF8ToString(treePtr));
  } finally {
    m._free(queryPtr);
    if (resultPtr !== 0) m._wasm_free_parse_result(resultPtr);
  }
}

export function isAstNode(value: unknown): value is AstNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses a whole simple-query string; requires `loadSqlParser()` to have resolved. */
export function parseStatements(sql: string): ParseOutcome {
  const m = current;
  if (m === undefined) {
    if (loading === undefined) throw new Error('airlock: SQL parser not loaded; await loadSqlParser() first');
    return { ok: false, message: 'the SQL checker is restarting; try again in a moment', transient: true };
  }
  // The parser rejects '' outright; PostgreSQL answers it with EmptyQueryResponse.
  if (sql.length === 0) return { ok: true, statements: [] };
  // A NUL would end the C string early: the parser would see less than the server is sent.
  if (sql.includes('\u0000')) return { ok: false, message: 'the statement contains a NUL byte' };
  let tree: unknown;
  try {
    tree = parseJson(m, sql);
  } catch (err) {
    if (err instanceof SyntaxErrorFromParser) return { ok: false, message: err.message };
    if (current === m) replaceInstance();
    return { ok: false, message: 'the statement is too complex to check' };
  }
  const stmts = isAstNode(tree) ? tree['stmts'] : undefined;
  if (!Array.isArray(stmts)) return { ok: false, message: 'unexpected parser output' };
  const statements: AstNode[] = [];
  for (const raw of stmts) {
    const stmt = isAstNode(raw) ? raw['stmt'] : undefined;
    if (!isAstNode(stmt)) return { ok: false, message: 'unexpected parser output' };
    statements.push(stmt);
  }
  return { ok: true, statements };
}

/** Splits a wrapped node into its type name and body, or undefined if it is not one. */
export function unwrap(node: unknown): readonly [string, AstNode] | undefined {
  if (!isAstNode(node)) return undefined;
  let found: readonly [string, AstNode] | undefined;
  for (const key in node) {
    if (found !== undefined) return undefined;
    const body = node[key];
    if (!isAstNode(body)) return undefined;
    found = [key, body];
  }
  return found;
}

export function stringField(body: AstNode, key: string): string | undefined {
  const v = body[key];
  return typeof v === 'string' ? v : undefined;
}

export function listField(body: AstNode, key: string): readonly unknown[] {
  const v = body[key];
  return Array.isArray(v) ? v : [];
}

/** `[{String:{sval:'a'}}, {String:{sval:'b'}}]` → `['a','b']`; undefined if any item is not a String. */
export function nameList(items: readonly unknown[]): string[] | undefined {
  const out: string[] = [];
  for (const item of items) {
    const u = unwrap(item);
    if (u === undefined || u[0] !== 'String') return undefined;
    const s = stringField(u[1], 'sval');
    if (s === undefined) return undefined;
    out.push(s);
  }
  return out;
}

/** Reads an A_Const boolean/integer option (BEGIN READ ONLY → ival 1, READ WRITE → ival {}). */
export function constTruthy(node: unknown): boolean | undefined {
  const u = unwrap(node);
  if (u === undefined || u[0] !== 'A_Const') return undefined;
  const ival = u[1]['ival'];
  if (isAstNode(ival)) return typeof ival['ival'] === 'number' && ival['ival'] !== 0;
  const bval = u[1]['boolval'];
  if (isAstNode(bval)) return bval['boolval'] === true;
  return undefined;
}

/**
 * Which `SET sql_mode = …` a session may run. The gateway pins sql_mode so
 * its lexer and parser read each statement as the server does; modes that
 * change that reading (ANSI_QUOTES, NO_BACKSLASH_ESCAPES, PIPES_AS_CONCAT,
 * IGNORE_SPACE, HIGH_NOT_PRECEDENCE, the ANSI/ORACLE/… bundles) stay
 * refused. Modes that only change what the server accepts or returns
 * (strictness, dates, grouping) are neutral to the reading, so drivers
 * that adjust them at connect (MariaDB and MySQL Connector/J send
 * `sql_mode = concat(@@sql_mode, ',STRICT_TRANS_TABLES')`) work. Accepted:
 * a string of neutral modes, or the session's own sql_mode with neutral
 * modes appended (which keeps the session neutral, whatever came before).
 * Anything else (DEFAULT, @@global.sql_mode, numbers, subqueries) is refused.
 */

const NEUTRAL_MODES: ReadonlySet<string> = new Set([
  'ALLOW_INVALID_DATES',
  'ERROR_FOR_DIVISION_BY_ZERO',
  'NO_AUTO_CREATE_USER',
  'NO_AUTO_VALUE_ON_ZERO',
  'NO_DIR_IN_CREATE',
  'NO_ENGINE_SUBSTITUTION',
  'NO_FIELD_OPTIONS',
  'NO_KEY_OPTIONS',
  'NO_TABLE_OPTIONS',
  'NO_UNSIGNED_SUBTRACTION',
  'NO_ZERO_DATE',
  'NO_ZERO_IN_DATE',
  'ONLY_FULL_GROUP_BY',
  'PAD_CHAR_TO_FULL_LENGTH',
  'REAL_AS_FLOAT',
  'STRICT_ALL_TABLES',
  'STRICT_TRANS_TABLES',
  'TIME_ROUND_FRACTIONAL',
  'TIME_TRUNCATE_FRACTIONAL',
  'TRADITIONAL',
]);

type AstObject = Record<string, unknown>;
const isObject = (v: unknown): v is AstObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function stringLiteral(expr: unknown): string | undefined {
  const value = isObject(expr) && isObject(expr['Value']) ? expr['Value']['value'] : undefined;
  if (!isObject(value)) return undefined;
  const s = value['SingleQuotedString'] ?? value['DoubleQuotedString'];
  return typeof s === 'string' ? s : undefined;
}

/** The modes of a literal that are not neutral (empty when all are). */
function nonNeutral(modes: string): string[] {
  return modes
    .split(',')
    .map((m) => m.trim().toUpperCase())
    .filter((m) => m !== '' && !NEUTRAL_MODES.has(m));
}

function isOwnSqlMode(expr: unknown): boolean {
  if (!isObject(expr)) return false;
  const id = expr['Identifier'];
  if (isObject(id) && typeof id['value'] === 'string') return id['value'].toLowerCase() === '@@sql_mode';
  const parts = expr['CompoundIdentifier'];
  if (!Array.isArray(parts)) return false;
  const names = parts.map((p) => (isObject(p) && typeof p['value'] === 'string' ? p['value'].toLowerCase() : '?'));
  return names.length === 2 && (names[0] === '@@session' || names[0] === '@@local') && names[1] === 'sql_mode';
}

function concatArgs(expr: unknown): unknown[] | undefined {
  const f = isObject(expr) ? expr['Function'] : undefined;
  if (!isObject(f) || !Array.isArray(f['name']) || f['name'].length !== 1) return undefined;
  const name = isObject(f['name'][0]) && isObject(f['name'][0]['Identifier']) ? f['name'][0]['Identifier']['value'] : undefined;
  if (typeof name !== 'string' || name.toLowerCase() !== 'concat') return undefined;
  const list = isObject(f['args']) ? f['args']['List'] : undefined;
  if (!isObject(list) || !Array.isArray(list['args']) || (Array.isArray(list['clauses']) && list['clauses'].length > 0)) return undefined;
  const args: unknown[] = [];
  for (const a of list['args']) {
    const unnamed = isObject(a) && isObject(a['Unnamed']) ? a['Unnamed']['Expr'] : undefined;
    if (unnamed === undefined) return undefined;
    args.push(unnamed);
  }
  return args;
}

/** Why this value may not become the session's sql_mode, or undefined when it keeps the statements' reading unchanged. */
export function sqlModeRefusal(values: unknown): string | undefined {
  const list = Array.isArray(values) ? values : [values];
  const refused = 'SET sql_mode other than strictness and date modes: airlock pins the modes that change how it reads each statement as the server does';
  if (list.length !== 1) return refused;
  const expr = list[0];
  const literal = stringLiteral(expr);
  if (literal !== undefined) {
    const bad = nonNeutral(literal);
    return bad.length === 0 ? undefined : `SET sql_mode with ${bad.join(', ')}: airlock pins it so that it reads each statement as the server does`;
  }
  const args = concatArgs(expr);
  if (!args || args.length < 2 || !isOwnSqlMode(args[0])) return refused;
  for (const a of args.slice(1)) {
    const s = stringLiteral(a);
    if (s === undefined) return refused;
    const bad = nonNeutral(s);
    if (bad.length > 0) return `SET sql_mode with ${bad.join(', ')}: airlock pins it so that it reads each statement as the server does`;
  }
  return undefined;
}

import { type AstNode, isAstNode, listField, unwrap } from './parse.js';

/**
 * The calls to set_config a role without `admin` may make, both sent by
 * pg_dump on connect.
 *
 * `set_config('search_path', '', is_local)`: pg_dump, pg_restore, vacuumdb and the other
 * PostgreSQL tools send exactly this on connect (libpq's
 * ALWAYS_SECURE_SEARCH_PATH_SQL), to make every name they resolve explicit.
 *
 * Why it is safe while other values are not. The gateway resolves an
 * unqualified name under every schema of the search_path it last read; an
 * empty path only removes schemas from that set, so statements checked with
 * the path read before the call are still checked under every schema they
 * can reach. Once the gateway re-reads the path (after a later SET), it knows
 * only pg_catalog; a ROLLBACK can then bring back a path the gateway no
 * longer knows, so a path holding only catalog schemas is treated as one
 * that may hold any schema (relations.ts `isCatalogOnlyPath`,
 * catalog-facts.ts `onPath`). A non-empty value would need the gateway to
 * follow it before the next statement is checked, which it cannot promise
 * for a pipelined statement, so other values stay refused; and since `SET
 * search_path` needs `admin`, the only paths such a session can have are the
 * one it started with and the empty one. The call is allowed only when
 * pg_catalog comes first in the path the gateway knows (the walker checks),
 * so catalog names resolve to pg_catalog in every path it can return to.
 */
export function clearsSearchPath(call: AstNode): boolean {
  for (const key in call) if (!CALL_FIELDS.has(key)) return false; // FILTER, OVER, named arguments, VARIADIC …
  if (call['funcformat'] !== undefined && call['funcformat'] !== 'COERCE_EXPLICIT_CALL') return false;
  const args = listField(call, 'args');
  if (args.length !== 3) return false;
  return stringConstant(args[0]) === 'search_path' && stringConstant(args[1]) === '' && isBooleanConstant(args[2]);
}

const CALL_FIELDS: ReadonlySet<string> = new Set(['funcname', 'args', 'funcformat', 'location']);

/**
 * pg_dump 15.8+ (and 12–17 since August 2024) runs
 * `SELECT set_config(name, 'view, foreign-table', false) FROM pg_settings
 * WHERE name = 'restrict_nonsystem_relation_kind'`, which works whether or
 * not the server has the setting. The row can only carry that one setting's
 * name, and a value naming only relation kinds forbids this session to
 * expand user views or read foreign tables: it narrows, never widens. The
 * statement is still walked as usual (the relation, the `=` operator); this
 * returns the set_config call in it that may run, or undefined when the
 * statement is not exactly that shape.
 */
export function relationKindRestriction(select: AstNode): AstNode | undefined {
  for (const key in select) if (!RESTRICT_SELECT_FIELDS.has(key)) return undefined;
  if (select['op'] !== undefined && select['op'] !== 'SETOP_NONE') return undefined;
  const targets = listField(select, 'targetList');
  const from = listField(select, 'fromClause');
  if (targets.length !== 1 || from.length !== 1) return undefined;
  const target = unwrap(targets[0]);
  const call = target !== undefined && target[0] === 'ResTarget' ? unwrap(target[1]['val']) : undefined;
  if (call === undefined || call[0] !== 'FuncCall' || !isSettingsCatalog(from[0]) || !filtersOneSetting(select['whereClause'])) return undefined;
  for (const key in call[1]) if (!CALL_FIELDS.has(key)) return undefined;
  const args = listField(call[1], 'args');
  if (args.length !== 3 || !isColumn(args[0], 'name') || !isBooleanConstant(args[2])) return undefined;
  const value = stringConstant(args[1]);
  if (value === undefined) return undefined;
  const kinds = value.split(',').map((k) => k.trim().toLowerCase());
  return kinds.every((k) => k === 'view' || k === 'foreign-table') ? call[1] : undefined;
}

const RESTRICT_SELECT_FIELDS: ReadonlySet<string> = new Set(['targetList', 'fromClause', 'whereClause', 'limitOption', 'op']);

function isSettingsCatalog(node: unknown): boolean {
  const u = unwrap(node);
  if (u === undefined || u[0] !== 'RangeVar') return false;
  const schema = u[1]['schemaname'];
  return u[1]['relname'] === 'pg_settings' && (schema === undefined || schema === 'pg_catalog') && u[1]['alias'] === undefined;
}

/** `name = 'restrict_nonsystem_relation_kind'` */
function filtersOneSetting(node: unknown): boolean {
  const u = unwrap(node);
  if (u === undefined || u[0] !== 'A_Expr' || u[1]['kind'] !== 'AEXPR_OP') return false;
  const op = listField(u[1], 'name');
  const opName = unwrap(op[0]);
  if (op.length !== 1 || opName === undefined || opName[0] !== 'String' || opName[1]['sval'] !== '=') return false;
  return isColumn(u[1]['lexpr'], 'name') && stringConstant(u[1]['rexpr']) === 'restrict_nonsystem_relation_kind';
}

function isColumn(node: unknown, name: string): boolean {
  const u = unwrap(node);
  if (u === undefined || u[0] !== 'ColumnRef') return false;
  const fields = listField(u[1], 'fields');
  const only = unwrap(fields[0]);
  return fields.length === 1 && only !== undefined && only[0] === 'String' && only[1]['sval'] === name;
}

function constant(node: unknown): AstNode | undefined {
  const u = unwrap(node);
  return u !== undefined && u[0] === 'A_Const' ? u[1] : undefined;
}

function stringConstant(node: unknown): string | undefined {
  const sval = constant(node)?.['sval'];
  if (!isAstNode(sval)) return undefined;
  const s = sval['sval'];
  // The JSON form leaves out an empty string's value.
  return s === undefined ? '' : typeof s === 'string' ? s : undefined;
}

function isBooleanConstant(node: unknown): boolean {
  return isAstNode(constant(node)?.['boolval']);
}

import { isSqlParserReady, parseStatements, stringField, unwrap } from './parse.js';

/**
 * Which prepared-statement and portal names a SQL text may remove or take
 * over when it runs: `DEALLOCATE`, `PREPARE`, `DISCARD ALL`, `DECLARE …
 * CURSOR`, `CLOSE`. The gateway forgets those names (prepared-names.ts), so
 * a later Bind or Execute of them is refused rather than recorded with a
 * text that is no longer what the name runs.
 */
export interface NameEffects {
  /** Statement names to forget, or 'all'. */
  readonly statements: readonly string[] | 'all';
  readonly portals: readonly string[] | 'all';
  /** Names a SQL `PREPARE` in the text defines (once it succeeds, after the forgetting). */
  readonly prepared: readonly string[];
}

const NONE: NameEffects = { statements: [], portals: [], prepared: [] };
const EVERYTHING: NameEffects = { statements: 'all', portals: 'all', prepared: [] };

/** A cheap superset test: texts without these words have no effect on names. */
const MAY_AFFECT_NAMES = /deallocate|prepare|discard|declare|close/i;
/** Longer texts are not parsed again on the event loop; they forget every name instead (fail closed). */
const PARSE_LIMIT = 16 * 1024;

export function mayAffectNames(text: string): boolean {
  return MAY_AFFECT_NAMES.test(text);
}

export function nameEffects(text: string): NameEffects {
  if (!mayAffectNames(text)) return NONE;
  if (text.length > PARSE_LIMIT || !isSqlParserReady()) return EVERYTHING;
  const parsed = parseStatements(text);
  if (!parsed.ok) return EVERYTHING;
  let statements: string[] | 'all' = [];
  let portals: string[] | 'all' = [];
  const prepared: string[] = [];
  for (const stmt of parsed.statements) {
    const u = unwrap(stmt);
    if (u === undefined) continue;
    const [kind, body] = u;
    if (kind === 'DeallocateStmt' || kind === 'PrepareStmt') {
      const name = stringField(body, 'name');
      if (name === undefined) statements = 'all';
      else if (statements !== 'all') statements.push(name);
      if (kind === 'PrepareStmt' && name !== undefined) prepared.push(name);
    } else if (kind === 'DeclareCursorStmt' || kind === 'ClosePortalStmt') {
      const name = stringField(body, 'portalname');
      if (name === undefined) portals = 'all';
      else if (portals !== 'all') portals.push(name);
    } else if (kind === 'DiscardStmt' && body['target'] === 'DISCARD_ALL') {
      return EVERYTHING;
    }
  }
  return { statements, portals, prepared };
}

/** A cheap superset test for SQL-level EXECUTE. */
export function mayExecute(text: string): boolean {
  return /execute/i.test(text);
}

/**
 * The prepared-statement names a text runs with SQL `EXECUTE`, wherever it
 * sits (`EXPLAIN ANALYZE EXECUTE`, `CREATE TABLE … AS EXECUTE`); null when
 * the text cannot be read here (too long, unparseable): the caller refuses.
 */
export function executedNames(text: string): string[] | null {
  if (!mayExecute(text)) return [];
  if (text.length > PARSE_LIMIT || !isSqlParserReady()) return null;
  const parsed = parseStatements(text);
  if (!parsed.ok) return null;
  const names: string[] = [];
  let unreadable = false;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if (key === 'ExecuteStmt') {
        const name = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)['name'] : undefined;
        if (typeof name === 'string') names.push(name);
        else unreadable = true;
      }
      visit(value);
    }
  };
  visit(parsed.statements);
  return unreadable ? null : names;
}

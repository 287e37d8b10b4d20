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
}

const NONE: NameEffects = { statements: [], portals: [] };
const EVERYTHING: NameEffects = { statements: 'all', portals: 'all' };

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
  for (const stmt of parsed.statements) {
    const u = unwrap(stmt);
    if (u === undefined) continue;
    const [kind, body] = u;
    if (kind === 'DeallocateStmt' || kind === 'PrepareStmt') {
      const name = stringField(body, 'name');
      if (name === undefined) statements = 'all';
      else if (statements !== 'all') statements.push(name);
    } else if (kind === 'DeclareCursorStmt' || kind === 'ClosePortalStmt') {
      const name = stringField(body, 'portalname');
      if (name === undefined) portals = 'all';
      else if (portals !== 'all') portals.push(name);
    } else if (kind === 'DiscardStmt' && body['target'] === 'DISCARD_ALL') {
      return EVERYTHING;
    }
  }
  return { statements, portals };
}

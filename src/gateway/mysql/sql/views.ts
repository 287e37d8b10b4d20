import { createHash } from 'node:crypto';
import { lexMysql } from './lexer.js';
import { parseMysql } from './parse.js';
import { StatementWalker, type RelationRef } from './walk.js';

/**
 * What each view the upstream login can see reads and calls, so a view is
 * counted by what it reads: a role denied `secrets` is denied a view over
 * it, and a view that calls a stored function is as opaque as calling it.
 * Read from information_schema.VIEWS at session start; a view whose
 * definition the login may not read (no SHOW VIEW) or that does not parse
 * is unreadable, and a role with table restrictions is refused it.
 */

export type ViewFacts =
  | { readonly readable: true; readonly relations: readonly RelationRef[]; readonly functions: readonly string[] }
  | { readonly readable: false };

export interface ViewCatalog {
  /** Changes when any definition changes: decisions are cached per catalog. */
  readonly fingerprint: string;
  get(database: string, name: string): ViewFacts | undefined;
}

export interface ViewRow {
  readonly database: string;
  readonly name: string;
  readonly definition: string | null;
}

const key = (database: string, name: string) => `${database.toLowerCase()}\u0000${name.toLowerCase()}`;

export const NO_VIEWS: ViewCatalog = { fingerprint: 'none', get: () => undefined };

/** The query that lists them, for the gateway's own upstream connection. */
export const VIEWS_QUERY = 'SELECT TABLE_SCHEMA, TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS';

export function viewCatalog(rows: readonly ViewRow[]): ViewCatalog {
  if (rows.length === 0) return NO_VIEWS;
  const views = new Map<string, ViewFacts>();
  const hash = createHash('sha256');
  for (const row of rows) {
    hash.update(`${row.database}\u0000${row.name}\u0000${row.definition ?? ''}\u0000`);
    views.set(key(row.database, row.name), factsOf(row));
  }
  return { fingerprint: hash.digest('base64url'), get: (database, name) => views.get(key(database, name)) };
}

function factsOf(row: ViewRow): ViewFacts {
  if (!row.definition) return { readable: false };
  const lexed = lexMysql(row.definition);
  if (!lexed.ok) return { readable: false };
  try {
    const walker = new StatementWalker();
    for (const statement of parseMysql(lexed.normalized)) walker.walk(statement);
    // Names in a stored definition are qualified by the server; an unqualified one is in the view's own database.
    const relations = walker.facts.relations.map((r) => ({ database: r.database ?? row.database, name: r.name }));
    return { readable: true, relations, functions: walker.facts.functions };
  } catch {
    return { readable: false };
  }
}

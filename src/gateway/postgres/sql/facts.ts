import type { StatementClass } from '../backend.js';

/**
 * What a statement would do, gathered by walking its parse tree before any
 * decision is made. Keeping facts apart from the scope lets one walk serve
 * every role, and lets the decision report the most useful refusal first.
 */

/** What the person in psql is told they may not do: `DELETE`, `function set_config()`, … */
export type NeedKind = 'statement' | 'function' | 'search_path';

export interface Need {
  readonly cls: StatementClass;
  readonly kind: NeedKind;
  /** `DELETE`, `SELECT FOR UPDATE`, `set_config`, … */
  readonly what: string;
}

/** A relation as written: `schema` is absent when the name is unqualified. */
export interface RelationRef {
  readonly schema?: string;
  readonly name: string;
}

export const SEARCH_PATH_CHANGE = 'changing search_path';

export class Facts {
  readonly needs: Need[] = [];
  readonly relations: RelationRef[] = [];
  /**
   * Constructs whose table access cannot be seen in the statement text
   * (DO blocks, unknown functions, COPY … PROGRAM). A role with table
   * patterns cannot be held to them through these, so they are refused there.
   */
  readonly opaque: string[] = [];
  /** Command tags of the top-level statements, for the audit record. */
  readonly tags: string[] = [];

  need(cls: StatementClass, what: string, kind: NeedKind = 'statement'): void {
    this.needs.push({ cls, kind, what });
  }

  relation(ref: RelationRef): void {
    this.relations.push(ref);
  }

  /** Something whose table access is invisible; it also needs `cls` to run at all. */
  opaqueNeed(cls: StatementClass, what: string, kind: NeedKind = 'statement'): void {
    this.need(cls, what, kind);
    this.markOpaque(kind === 'function' ? `function ${what}()` : kind === 'search_path' ? SEARCH_PATH_CHANGE : what);
  }

  markOpaque(what: string): void {
    this.opaque.push(what);
  }
}

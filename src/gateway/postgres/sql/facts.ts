import type { StatementClass } from '../backend.js';
import type { ClassType } from './catalog-classes.js';

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

/** Values that may be of a user-defined type, in a statement or in one operand. */
export class ValueSources {
  /** The first value that may be of such a type: a column of one, a cast to one, a row, a parameter. */
  typed: string | undefined;
  /** A string literal or NULL: its type is decided by what it meets. */
  untyped = false;
  /** Single-name column references: a whole-row value when they name a FROM item. */
  readonly bare: string[] = [];
}

/** Which side of a user operator needs a user-defined type. */
export type OperatorSide = 'none' | 'user' | 'builtin';

export interface TypedOperatorUse {
  readonly display: string;
  readonly left: OperatorSide;
  readonly right: OperatorSide;
  /** An untyped literal at a user-type side may resolve to it. */
  readonly unknownReaches: boolean;
}

export interface TypedOperand {
  /** The operator as written, `=`. */
  readonly op: string;
  readonly uses: readonly TypedOperatorUse[];
  readonly left: ValueSources;
  readonly right: ValueSources;
}

/** A value that may be of a type whose comparisons run user code, as named in a message. */
export interface ClassSource {
  /** `column "w"`, `a value of type public.wrap`. */
  readonly what: string;
  readonly type: ClassType;
}

/** What one compared value (an ORDER BY key, one side of =, one arm's column of a UNION) may hold (comparisons.ts). */
export class ComparedValues {
  /** A cast to such a type, or a parameter. */
  classed: ClassSource | undefined;
  /** A column or field whose name some relation gives such a type: only if the statement reads such a relation. */
  named: ClassSource | undefined;
  /** A whole-row value or a star: of such a type when the statement has a value of one anywhere. */
  rowish: string | undefined;
  /** Single-name column references: a whole-row value when they name a FROM item. */
  readonly bare: string[] = [];
  /** A column reference: when a subquery renamed a value of such a type, any column name may be it. */
  columns = false;
  /** A parameter at its surface (not under an operator or a function): the client may declare its type. */
  param = false;
  /** An untyped literal or NULL at its surface: it takes the type of what it is compared with. */
  untyped = false;
}

export interface Comparison {
  /** `ORDER BY`, `UNION`, `operator =`, … */
  readonly clause: string;
  /** Values compared with each other (`a = b`: two), or one key compared with itself across rows. */
  readonly members: readonly ComparedValues[];
}

export class Facts {
  readonly needs: Need[] = [];
  readonly relations: RelationRef[] = [];
  /** The relations queries and DML read or write (not those DDL names): what a view behind one reads counts too. */
  readonly queried: RelationRef[] = [];
  /**
   * Constructs whose table access cannot be seen in the statement text
   * (DO blocks, unknown functions, COPY … PROGRAM). A role with table
   * patterns cannot be held to them through these, so they are refused there.
   */
  readonly opaque: string[] = [];
  /** Command tags of the top-level statements, for the audit record. */
  readonly tags: string[] = [];
  /**
   * Operators and casts written by user code that only run on a value of a
   * user-defined type (catalog-facts.ts, "typed"), and the values in the
   * statement that may be of such a type. The decision needs both: for an
   * operator written out (`a = b`) the value must be in the operand at the
   * user type's side; for implicit uses (CASE x WHEN, JOIN USING, IN
   * (SELECT …)) and casts, anywhere in the statement.
   */
  readonly typedOperands: TypedOperand[] = [];
  readonly typedUses: string[] = [];
  /** An implicit typed use that an untyped literal can also reach. */
  untypedReaches = false;
  /** Every value source in the statement. */
  readonly values = new ValueSources();
  /** Names of FROM items (tables, aliases, functions, CTEs). */
  readonly rangeNames = new Set<string>();
  /** A relation with a column of such a type; a source only when columns are renamed (`AS s(a, b)`, `WITH c(a) AS`). */
  typedRelation: string | undefined;
  columnAliases = false;
  /** What the statement compares through a type's operator class, and what may be of such a type in it (comparisons.ts). */
  readonly comparisons: Comparison[] = [];
  /** The first value of such a type anywhere in the statement, or a relation that holds one. */
  classPresence: ClassSource | undefined;
  /** A relation the statement reads that has a column of such a type: only then can a column be one. */
  classRelation: string | undefined;
  /** Output columns of subqueries and CTEs that get a new name (an alias, or one PostgreSQL makes up): what each holds. */
  readonly renamed: ComparedValues[] = [];

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

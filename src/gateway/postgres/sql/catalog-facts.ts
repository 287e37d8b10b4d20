import { createHash } from 'node:crypto';
import { type ClassType, ClassTypes, type RawClassType } from './catalog-classes.js';
import type { OperatorSide } from './facts.js';
import { classifyFunction } from './functions-allowed.js';
import { Lru } from './lru.js';
import { displayName, isCatalogOnlyPath } from './relations.js';

/**
 * Facts about one database that the statement text does not carry: where
 * user code can run without being called by name. The gateway reads them
 * once per upstream session (catalog-query.ts), and the policy consults
 * them on every cache miss:
 *
 * - Attribute notation: `o.f` and `(o).f` call `f(o)` when no column `f`
 *   exists. Any field name that is also a function callable with one
 *   argument (user code, or a built-in the function allow-list does not
 *   trust, e.g. `('/etc/passwd'::text).pg_read_file`) is treated as that
 *   call. A real column of that name is refused too: the text cannot tell
 *   them apart.
 * - Built-in names shadowed by user code: `lower(x)` may resolve to a user
 *   `lower(citext)` on the search_path; such a call is refused unless
 *   written `pg_catalog.lower(x)`.
 * - Operators: an operator in a user schema, or bound to a user function.
 *   If one of its arguments is a user-defined type it can only be chosen
 *   for a value of that type (or a row, or an untyped literal / parameter),
 *   so it is refused only when the statement has such a value ("typed");
 *   otherwise every use of the operator name is refused ("any"), with
 *   OPERATOR(pg_catalog.op) as the way to name the built-in.
 * - Types whose input runs user code: domains whose constraints call a
 *   function the allow-list does not trust, types with user I/O or range
 *   functions, targets of user-written casts, and every array, domain,
 *   range or composite built from one. A cast (or any other use of the type
 *   name in a statement) to one is refused.
 * - Views, materialized views and row-security policies: the relations a
 *   view reads (so deny_tables, the tables allow-list and the sensitive
 *   catalogs hold through it), the functions, operators and types a view or
 *   policy runs.
 * - Types compared through a default btree or hash operator class that is
 *   user code (catalog-classes.ts): ORDER BY, DISTINCT, GROUP BY, UNION, …
 *   on a value of one run that code with no operator written.
 *
 * Facts are interned by a SHA-256 of the catalog text: sessions on the same
 * database share one compiled object, and the decision caches key on the
 * fingerprint, so two databases with different code never share a decision.
 */

/** [schema, name, callable with one argument] */
type RawFunction = [string, string, boolean];
/** [oid, schema, name, left, right, display, pg_catalog has (left,right), … (left,left), … (right,right)] */
type RawOperator = [number, string, string, number, number, string, boolean, boolean, boolean];
/** [oid, schema, name, typtype, domain base, array element, user-type parts, input runs user code] */
type RawType = [number, string, string, string, number, number, number[], boolean];
/** [source, target, target schema, target name, context e|a|i, runs a user function] */
type RawCast = [number, number, string, string, string, boolean];
/** [relation, column, type] */
type RawColumn = [string, string, number];
/** [kind v|p|d, owner oid, schema, name, relkind, reads, functions, operators, types] */
type RawOwner = [string, number, string, string, string, [string, string][], [string, string, boolean][], number[], number[]];

export type RawCatalog = [RawFunction[], string[], RawOperator[], RawType[], RawCast[], RawColumn[], RawOwner[], RawClassType[]];

/** How many answers the catalog query returns (catalog-query.ts), one per element of `RawCatalog`. */
const PARTS = 8;

export interface UserOperator {
  readonly schema: string;
  readonly display: string;
  /** `typed`: needs a value of a user-defined type; `any`: reachable from built-in values. */
  readonly mode: 'any' | 'typed';
  readonly left: OperatorSide;
  readonly right: OperatorSide;
  /** An untyped literal (or NULL) may resolve to it: no pg_catalog operator takes the other side's type on both sides. */
  readonly unknownReaches: boolean;
  /** pg_catalog has the same name and argument types, which wins while pg_catalog comes first in the search_path. */
  readonly sameAsCatalog: boolean;
}

export interface CodeType {
  readonly schema: string;
  readonly display: string;
  /** Why a conversion to it runs code: `its constraint calls public.stamp()`. */
  readonly why: string;
}

export interface RelationCode {
  readonly display: string;
  /** `view`, `materialized view`, `table` (row-security policies). */
  readonly kind: string;
  readonly reads: readonly (readonly [string, string])[];
  /** [schema, name, user code] */
  readonly calls: readonly (readonly [string, string, boolean])[];
  /** User operators it runs, as displayed. */
  readonly operators: readonly string[];
  /** Code types it converts to. */
  readonly types: readonly CodeType[];
}

interface NamedIn<T> {
  readonly schema: string;
  readonly value: T;
}

function addTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

/** The `$user` entry of a raw search_path: with no user name known it could be any schema. */
function schemaMatches(entry: string, schema: string, user: string | undefined): boolean {
  if (entry === '$user' || entry === '"$user"') return user === undefined || user === schema;
  return entry === schema;
}

/** Can an unqualified name find an object in `schema`? pg_catalog is always searched. */
export function onPath(schema: string, searchPath: readonly string[], user: string | undefined): boolean {
  if (schema === 'pg_catalog' || isCatalogOnlyPath(searchPath)) return true;
  for (const entry of searchPath) if (schemaMatches(entry, schema, user)) return true;
  return false;
}

/** Is pg_catalog searched before `schema`? It is implicitly first unless the path places it. */
function catalogFirst(schema: string, searchPath: readonly string[], user: string | undefined): boolean {
  for (const entry of searchPath) {
    if (entry === 'pg_catalog') return true;
    if (schemaMatches(entry, schema, user)) return false;
  }
  return true;
}

/** What each set of facts was compiled from, so the classifier thread (check-thread.ts) can compile its own copy. */
const rawOf = new WeakMap<CatalogFacts, RawCatalog>();

export function catalogRaw(facts: CatalogFacts): RawCatalog {
  return rawOf.get(facts)!;
}

export class CatalogFacts {
  /**
   * No facts at all: every check that needs the catalog passes. Only for
   * callers with no upstream (unit tests, tools); the gateway always reads
   * the session's own facts and refuses the session when it cannot.
   */
  static readonly NONE = new CatalogFacts('none', [[], [], [], [], [], [], [], []]);

  private readonly userFunctions = new Map<string, { schema: string; oneArg: boolean }[]>();
  private readonly systemOneArg: ReadonlySet<string>;
  private readonly operators = new Map<string, UserOperator[]>();
  private readonly codeTypes = new Map<string, CodeType[]>();
  private readonly typedTypes = new Map<string, NamedIn<string>[]>();
  private readonly typedCasts = new Map<string, NamedIn<string>[]>();
  private readonly typedColumnNames = new Set<string>();
  private readonly typedRelationNames = new Set<string>();
  private readonly relations = new Map<string, RelationCode>();
  /** True when some user operator or cast needs a typed value: only then are value sources worth tracking. */
  readonly tracksTypedValues: boolean;
  /** Types whose comparisons run user code (catalog-classes.ts). */
  readonly classes: ClassTypes;
  /** True when there is one: only then are compared values worth tracking. */
  readonly tracksClassTypes: boolean;
  /**
   * A user-written cast from a user type that PostgreSQL applies without
   * being asked (AS IMPLICIT, AS ASSIGNMENT): any value of such a type in a
   * statement may run it, so the statement is refused when it has one.
   */
  readonly implicitCast: string | undefined;

  constructor(
    /** Names this set of facts in cache keys. */
    readonly fingerprint: string,
    raw: RawCatalog,
  ) {
    rawOf.set(this, raw);
    const [functions, systemOneArg, operators, types, casts, columns, owners, classTypes] = raw;
    this.classes = new ClassTypes(classTypes);
    this.tracksClassTypes = this.classes.size > 0;
    for (const [schema, name, oneArg] of functions) addTo(this.userFunctions, name, { schema, oneArg });
    this.systemOneArg = new Set(systemOneArg);

    const typeByOid = new Map<number, RawType>();
    for (const t of types) typeByOid.set(t[0], t);
    const typeDisplay = (oid: number): string => {
      const t = typeByOid.get(oid);
      return t === undefined ? `type ${oid}` : displayName(t[1], t[2]);
    };

    // A user type that a built-in type converts to implicitly takes built-in values wherever it is expected.
    const fromBuiltin = new Set<number>();
    for (const [source, target, , , context] of casts) {
      if (context === 'i' && typeByOid.has(target) && !typeByOid.has(source)) fromBuiltin.add(target);
    }

    // Operators: which side needs a user-defined type. A domain over a built-in type
    // accepts that built-in type, and a type missing from `types` is treated as built-in:
    // both only make the operator reachable from more values, never fewer.
    const argClass = (oid: number): OperatorSide => {
      if (oid === 0) return 'none';
      let t = typeByOid.get(oid);
      for (let hops = 0; t !== undefined && t[3] === 'd' && hops < 64; hops++) t = typeByOid.get(t[4]);
      return t === undefined || t[3] === 'd' || fromBuiltin.has(t[0]) ? 'builtin' : 'user';
    };
    const sigma = new Set<number>();
    const userOperatorsByOid = new Map<number, string>();
    for (const [oid, schema, name, left, right, display, sameSignature, leftBoth, rightBoth] of operators) {
      userOperatorsByOid.set(oid, display);
      const l = argClass(left);
      const r = argClass(right);
      const typed = l === 'user' || r === 'user';
      if (l === 'user') sigma.add(left);
      if (r === 'user') sigma.add(right);
      const unknownReaches =
        typed && (l === 'none' || r === 'none' || (l === 'user' && r === 'builtin' && !rightBoth) || (r === 'user' && l === 'builtin' && !leftBoth));
      addTo(this.operators, name, { schema, display, mode: typed ? 'typed' : 'any', left: l, right: r, unknownReaches, sameAsCatalog: sameSignature });
    }

    // Code types: seeds, then everything built from one.
    const why = new Map<number, string>();
    const seed = (oid: number, reason: string) => {
      if (!why.has(oid)) why.set(oid, reason);
    };
    for (const t of types) if (t[7]) seed(t[0], 'its input or range functions are user code');
    let implicitCast: string | undefined;
    const implicitBetweenUserTypes: [number, number][] = [];
    for (const [source, target, schema, name, context, userFunction] of casts) {
      if (context === 'i' && typeByOid.has(source) && typeByOid.has(target)) implicitBetweenUserTypes.push([source, target]);
      if (!userFunction) continue;
      const display = `${displayName(schema, name)}`;
      if (typeByOid.has(target)) {
        seed(target, 'a cast to it runs user code');
      } else if (typeByOid.has(source)) {
        // A user-written cast from a user type to a built-in one: reached by `value::target`, or silently.
        sigma.add(source);
        addTo(this.typedCasts, name, { schema, value: `a cast to ${display} here: user code converts ${typeDisplay(source)} to it` });
        if (context !== 'e') implicitCast ??= `the ${context === 'i' ? 'implicit' : 'assignment'} cast from ${typeDisplay(source)} to ${display}`;
      } else {
        addTo(this.codeTypes, name, { schema, display, why: 'a cast to it runs user code' });
      }
    }
    this.implicitCast = implicitCast;
    const domainTypeUses = new Map<number, number[]>();
    for (const [kind, owner, , , , , calls, , usedTypes] of owners) {
      if (kind !== 'd') continue;
      domainTypeUses.set(owner, usedTypes);
      for (const [schema, name, user] of calls) {
        if (user) {
          seed(owner, `its constraint calls ${displayName(schema, name)}()`);
        } else {
          const verdict = classifyFunction([name]);
          if (!(verdict.known && verdict.cls === 'read')) seed(owner, `its constraint calls ${name}()`);
        }
      }
    }
    const parents = new Map<number, number[]>();
    for (const t of types) {
      const children = [...t[6]];
      if (t[4] !== 0) children.push(t[4]);
      if (t[5] !== 0) children.push(t[5]);
      for (const c of domainTypeUses.get(t[0]) ?? []) children.push(c);
      for (const c of children) addTo(parents, c, t[0]);
    }
    // Derived types name the seed they are built from, not the whole chain.
    const root = new Map<number, number>();
    for (const oid of why.keys()) root.set(oid, oid);
    const queue = [...why.keys()];
    while (queue.length > 0) {
      const child = queue.pop()!;
      const seedOid = root.get(child) ?? child;
      for (const parent of parents.get(child) ?? []) {
        if (why.has(parent)) continue;
        why.set(parent, `it is built from ${typeDisplay(seedOid)}: ${why.get(seedOid) ?? ''}`);
        root.set(parent, seedOid);
        queue.push(parent);
      }
    }
    const codeTypeByOid = new Map<number, CodeType>();
    for (const [oid, reason] of why) {
      const t = typeByOid.get(oid);
      if (t === undefined) continue;
      const ct: CodeType = { schema: t[1], display: displayName(t[1], t[2]), why: reason };
      codeTypeByOid.set(oid, ct);
      addTo(this.codeTypes, t[2], ct);
    }

    // Values that may be of a type some user operator or cast needs: domains over and arrays of
    // those types too, and user types that convert to one implicitly.
    let grew = true;
    while (grew) {
      grew = false;
      for (const t of types) {
        if (sigma.has(t[0])) continue;
        if ((t[3] === 'd' && sigma.has(t[4])) || (t[5] !== 0 && sigma.has(t[5]))) {
          sigma.add(t[0]);
          grew = true;
        }
      }
      for (const [source, target] of implicitBetweenUserTypes) {
        if (sigma.has(target) && !sigma.has(source)) {
          sigma.add(source);
          grew = true;
        }
      }
    }
    for (const oid of sigma) {
      const t = typeByOid.get(oid);
      if (t === undefined) continue;
      addTo(this.typedTypes, t[2], { schema: t[1], value: displayName(t[1], t[2]) });
      // A table's row type has the table's name: `FROM t` brings its whole-row value into scope.
      if (t[3] === 'c') this.typedRelationNames.add(t[2]);
    }
    for (const [relation, column, type] of columns) {
      if (!sigma.has(type)) continue;
      this.typedColumnNames.add(column);
      this.typedRelationNames.add(relation);
    }
    this.tracksTypedValues = sigma.size > 0;

    for (const [kind, , schema, name, relkind, reads, calls, ops, usedTypes] of owners) {
      if (kind === 'd') continue;
      const key = `${schema}\u0000${name}`;
      const prev = this.relations.get(key);
      // Reading a materialized view runs nothing: only what it copied matters.
      const runs = relkind !== 'm';
      const code: RelationCode = {
        display: displayName(schema, name),
        kind: relkind === 'v' ? 'view' : relkind === 'm' ? 'materialized view' : 'table',
        reads: [...(prev?.reads ?? []), ...reads],
        calls: [...(prev?.calls ?? []), ...(runs ? calls : [])],
        operators: [...(prev?.operators ?? []), ...(runs ? ops.flatMap((o) => userOperatorsByOid.get(o) ?? []) : [])],
        types: [...(prev?.types ?? []), ...(runs ? usedTypes.flatMap((t) => codeTypeByOid.get(t) ?? []) : [])],
      };
      this.relations.set(key, code);
    }
  }

  /** A user function `.name` would call through attribute notation, as `schema.name`. */
  userAttributeFunction(name: string, searchPath: readonly string[], user: string | undefined): string | undefined {
    for (const f of this.userFunctions.get(name) ?? []) {
      if (f.oneArg && onPath(f.schema, searchPath, user)) return displayName(f.schema, name);
    }
    return undefined;
  }

  /** True when a built-in function of that name takes one argument, so `.name` may be a call. */
  isSystemOneArgFunction(name: string): boolean {
    return this.systemOneArg.has(name);
  }

  /**
   * A user function a call written `names(…)` may resolve to instead of the
   * built-in of that name: any on the search_path when unqualified, one an
   * extension put into pg_catalog when qualified with it.
   */
  userFunctionShadowing(names: readonly string[], searchPath: readonly string[], user: string | undefined): string | undefined {
    const name = names[names.length - 1];
    if (name === undefined || names.length > 2) return undefined;
    for (const f of this.userFunctions.get(name) ?? []) {
      const reachable = names.length === 1 ? onPath(f.schema, searchPath, user) : f.schema === names[0];
      if (reachable) return displayName(f.schema, name);
    }
    return undefined;
  }

  /** User operators a use of `names` may resolve to (an operator named like a built-in; others are refused anyway). */
  userOperators(names: readonly string[], searchPath: readonly string[], user: string | undefined): UserOperator[] {
    const name = names[names.length - 1];
    if (name === undefined) return [];
    const out: UserOperator[] = [];
    for (const op of this.operators.get(name) ?? []) {
      if (names.length === 2) {
        if (op.schema === names[0]) out.push(op);
        continue;
      }
      if (!onPath(op.schema, searchPath, user)) continue;
      if (op.sameAsCatalog && op.schema !== 'pg_catalog' && catalogFirst(op.schema, searchPath, user)) continue;
      out.push(op);
    }
    return out;
  }

  private typeMatches<T extends { schema: string }>(map: Map<string, T[]>, names: readonly string[], searchPath: readonly string[], user: string | undefined): T | undefined {
    const name = names[names.length - 1];
    if (name === undefined) return undefined;
    for (const t of map.get(name) ?? []) {
      if (names.length >= 2 ? t.schema === names[names.length - 2] : onPath(t.schema, searchPath, user) || t.schema.startsWith('pg_temp')) return t;
    }
    return undefined;
  }

  /** A type whose conversion runs code the role may not run. */
  codeType(names: readonly string[], searchPath: readonly string[], user: string | undefined): CodeType | undefined {
    return this.typeMatches(this.codeTypes, names, searchPath, user);
  }

  /** A type some user operator or cast needs a value of, as displayed. */
  typedType(names: readonly string[], searchPath: readonly string[], user: string | undefined): string | undefined {
    return this.typeMatches(this.typedTypes, names, searchPath, user)?.value;
  }

  /** A type whose comparisons run user code, as `names` resolves here. */
  classType(names: readonly string[], searchPath: readonly string[], user: string | undefined): ClassType | undefined {
    return this.typeMatches(this.classes.byName, names, searchPath, user);
  }

  /** A built-in type a user-written cast converts a user type to: `value::it` may run that cast. */
  typedCast(names: readonly string[], searchPath: readonly string[], user: string | undefined): string | undefined {
    return this.typeMatches(this.typedCasts, names, searchPath, user)?.value;
  }

  /** A column name that, somewhere in this database, holds a type some user operator or cast needs. */
  isTypedColumn(name: string): boolean {
    return this.typedColumnNames.has(name);
  }

  /** A relation that has such a column, or whose row type is such a type. */
  isTypedRelation(name: string): boolean {
    return this.typedRelationNames.has(name);
  }

  /** What reading `schema.name` runs and reads beyond itself, when it is a view or has row-security policies. */
  relationCode(schema: string, name: string): RelationCode | undefined {
    return this.relations.get(`${schema}\u0000${name}`);
  }
}

const interned = new Lru<string, CatalogFacts>(64);


export class CatalogFormatError extends Error {}

function isArrayOf(value: unknown, n: number): value is unknown[] {
  return Array.isArray(value) && value.length === n && value.every(Array.isArray);
}

/** The catalog query's answers (catalog-query.ts), in order. */
export function catalogFromParts(parts: readonly string[]): CatalogFacts {
  if (parts.length !== PARTS) throw new CatalogFormatError(`the catalog query returned ${parts.length} answers instead of ${PARTS}`);
  return catalogFromText(`[${parts.join(',')}]`);
}

/**
 * Compiles the catalog facts from their JSON text; equal texts share one
 * object. Throws CatalogFormatError when the text is not what the query
 * returns, so the caller can refuse the session rather than run without facts.
 */
export function catalogFromText(text: string): CatalogFacts {
  const fingerprint = createHash('sha256').update(text).digest('base64url');
  const hit = interned.get(fingerprint);
  if (hit !== undefined) return hit;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new CatalogFormatError('the catalog answer is not JSON');
  }
  if (!isArrayOf(raw, PARTS)) throw new CatalogFormatError('the catalog answer has an unexpected shape');
  let facts: CatalogFacts;
  try {
    facts = new CatalogFacts(fingerprint, raw as RawCatalog);
  } catch (err) {
    throw new CatalogFormatError(`the catalog answer could not be read (${(err as Error).message})`);
  }
  interned.set(fingerprint, facts);
  return facts;
}

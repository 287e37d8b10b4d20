import { displayName } from './relations.js';

/**
 * Types whose comparisons run user code although no operator is written.
 *
 * ORDER BY, GROUP BY, DISTINCT, UNION, window clauses, min()/max(), IN
 * (subquery), merge and hash joins, and every comparison of an array, range,
 * row or record compare values through the default btree or hash operator
 * class of their type (of each field, each element). When that class's
 * support functions or operators are user code (a composite type with its
 * own `wrap_cmp`, an extension type such as citext or hstore), sorting by a
 * column of that type runs it. The catalog query (catalog-query.ts, part
 * `classTypes`) lists those types, and every array, domain, range and
 * composite (table row types too) built from one, with the columns that
 * hold them; the policy refuses a statement that compares a value that may
 * be of one (comparisons.ts).
 */

/**
 * [type oid, schema, name, seed type oid, access method, user function,
 * relation, column, column type oid]: the last three name the column through
 * which a relation's row type was reached ('' and 0 otherwise).
 */
export type RawClassType = [number, string, string, number, string, string, string, string, number];

export interface ClassType {
  readonly schema: string;
  /** `public.wrap`, `public._wrap` (its array), `public.wrapped` (a table's row type). */
  readonly display: string;
  /** `its default btree operator class runs user code (public.wrap_cmp)`, or built from a type whose does. */
  readonly why: string;
}

export class ClassTypes {
  /** By type name, for casts; the caller resolves the schema against the search_path. */
  readonly byName = new Map<string, ClassType[]>();
  private readonly columns = new Map<string, ClassType>();
  private readonly relations = new Map<string, ClassType>();
  /** One whose own class is user code, to name in a message about a value whose type is unknown (a parameter). */
  readonly example: ClassType | undefined;

  constructor(raw: readonly RawClassType[]) {
    const names = new Map<number, string>();
    for (const [oid, schema, name] of raw) names.set(oid, displayName(schema, name));
    const byOid = new Map<number, ClassType>();
    for (const [oid, schema, name, seed, am, code] of raw) {
      if (byOid.has(oid)) continue;
      const why =
        oid === seed
          ? `its default ${am} operator class runs user code (${code})`
          : `it is built from ${names.get(seed) ?? `type ${seed}`}, whose default ${am} operator class runs user code (${code})`;
      const type: ClassType = { schema, display: displayName(schema, name), why };
      byOid.set(oid, type);
      const list = this.byName.get(name);
      if (list === undefined) this.byName.set(name, [type]);
      else list.push(type);
    }
    for (const [oid, , , , , , relation, column, columnType] of raw) {
      if (relation === '') continue;
      // A relation's row type has the relation's name: `FROM t` brings its whole-row value into scope.
      if (!this.relations.has(relation)) this.relations.set(relation, byOid.get(oid)!);
      const field = byOid.get(columnType);
      if (field !== undefined && !this.columns.has(column)) this.columns.set(column, field);
    }
    this.example = raw.length === 0 ? undefined : byOid.get(raw.find(([oid, , , seed]) => oid === seed)?.[3] ?? raw[0]![0]);
  }

  get size(): number {
    return this.byName.size;
  }

  /** A column name that, somewhere in this database, holds such a type. */
  column(name: string): ClassType | undefined {
    return this.columns.get(name);
  }

  /** A relation (table, view, composite type) that has such a column. */
  relation(name: string): ClassType | undefined {
    return this.relations.get(name);
  }
}

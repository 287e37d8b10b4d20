/**
 * Walks one parsed statement (sqlparser-rs's JSON AST) and collects what the
 * policy judges: every relation it names, every function it calls, and
 * whether it locks rows. The walk is generic on purpose: it visits every
 * field of every node, so a construct this file does not know still has its
 * tables and functions seen. A name in a position the walk cannot place is
 * counted as a relation (stricter, never looser).
 */

export interface RelationRef {
  readonly database?: string;
  readonly name: string;
}

export interface WalkFacts {
  readonly relations: RelationRef[];
  /** Function names as written: `NOW`, `db.f`. */
  readonly functions: string[];
  /** `FOR UPDATE` / `FOR SHARE`: row locks that stall other sessions. */
  locksRows: boolean;
  /** User variables assigned by `SELECT … INTO @v`. */
  readonly intoVariables: string[];
  /** `SELECT … INTO` a table, file or something else than a variable. */
  intoOther: boolean;
}

export type AstValue = unknown;
type AstObject = Record<string, unknown>;

const isObject = (v: unknown): v is AstObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** sqlparser-rs's ObjectName: `[{"Identifier": {"value": "db"}}, {"Identifier": {"value": "t"}}]`. */
export function objectNameParts(v: unknown): string[] | undefined {
  if (!Array.isArray(v) || v.length === 0) return undefined;
  const parts: string[] = [];
  for (const part of v) {
    if (!isObject(part) || !isObject(part['Identifier'])) return undefined;
    const value = part['Identifier']['value'];
    if (typeof value !== 'string') return undefined;
    parts.push(value);
  }
  return parts;
}

/** An Ident: `{"value": "x", "quote_style": …}`. */
export function identValue(v: unknown): string | undefined {
  return isObject(v) && typeof v['value'] === 'string' ? v['value'] : undefined;
}

export function relationFromParts(parts: readonly string[]): RelationRef {
  if (parts.length === 1) return { name: parts[0]! };
  // `a.b.c` is not a table name MySQL accepts; keep the last two so the check is at least as strict.
  return { database: parts[parts.length - 2]!, name: parts[parts.length - 1]! };
}

/** Fields that hold column names, not relations, in the nodes that have them. */
const COLUMN_FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  Insert: new Set(['columns', 'after_columns']),
  Assignment: new Set(['target']),
};

export class StatementWalker {
  readonly facts: WalkFacts = { relations: [], functions: [], locksRows: false, intoVariables: [], intoOther: false };

  walk(node: AstValue, ctes: ReadonlySet<string> = new Set()): void {
    this.visit(node, ctes, undefined, '');
  }

  private visit(node: AstValue, ctes: ReadonlySet<string>, parentKind: string | undefined, key: string): void {
    if (Array.isArray(node)) {
      const parts = EXPRESSION_LISTS.has(key) ? undefined : objectNameParts(node);
      if (parts) {
        this.facts.relations.push(relationFromParts(parts));
        return;
      }
      for (const item of node) this.visit(item, ctes, parentKind, key);
      return;
    }
    if (!isObject(node)) return;
    if (isQuery(node)) {
      this.visitQuery(node, ctes);
      return;
    }
    for (const [key, value] of Object.entries(node)) {
      if (key === 'span') continue;
      if (key === 'Table' && isObject(value) && objectNameParts(value['name'])) {
        const parts = objectNameParts(value['name'])!;
        if (!(parts.length === 1 && ctes.has(parts[0]!.toLowerCase()))) this.facts.relations.push(relationFromParts(parts));
        this.visitFields(value, ctes, 'Table', ['name']);
        continue;
      }
      if (key === 'Function' && isObject(value) && objectNameParts(value['name'])) {
        this.facts.functions.push(objectNameParts(value['name'])!.join('.'));
        this.visitFields(value, ctes, 'Function', ['name']);
        continue;
      }
      if (key === 'into' && isObject(value) && 'temporary' in value) {
        const parts = objectNameParts(value['name']);
        if (parts && parts.length === 1 && parts[0]!.startsWith('@') && value['table'] !== true) this.facts.intoVariables.push(parts[0]!);
        else this.facts.intoOther = true;
        continue;
      }
      if (parentKind && COLUMN_FIELDS[parentKind]?.has(key)) continue;
      this.visit(value, ctes, kindOf(key, value), key);
    }
  }

  private visitFields(node: AstObject, ctes: ReadonlySet<string>, kind: string, skip: readonly string[]): void {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'span' || skip.includes(key)) continue;
      this.visit(value, ctes, kind, key);
    }
  }

  /** A query with its CTEs: each is visible in the body and in the CTEs after it (and in itself when RECURSIVE). */
  private visitQuery(query: AstObject, outer: ReadonlySet<string>): void {
    let ctes = outer;
    const withClause = query['with'];
    if (isObject(withClause) && Array.isArray(withClause['cte_tables'])) {
      const recursive = withClause['recursive'] === true;
      for (const cte of withClause['cte_tables']) {
        if (!isObject(cte)) continue;
        const alias = isObject(cte['alias']) ? identValue(cte['alias']['name']) : undefined;
        const withSelf = recursive && alias !== undefined ? new Set([...ctes, alias.toLowerCase()]) : ctes;
        this.visit(cte['query'], withSelf, 'Cte', 'query');
        if (alias !== undefined) ctes = new Set([...ctes, alias.toLowerCase()]);
      }
    }
    if (Array.isArray(query['locks']) && query['locks'].length > 0) this.facts.locksRows = true;
    for (const [key, value] of Object.entries(query)) {
      if (key === 'with' || key === 'span') continue;
      this.visit(value, ctes, 'Query', key);
    }
  }
}

/**
 * Fields holding lists of expressions: a list of bare column names there
 * (`GROUP BY a, b`, `IN (a, b)`) has the shape of a qualified object name.
 */
const EXPRESSION_LISTS: ReadonlySet<string> = new Set([
  'Expressions', 'list', 'partition_by', 'Tuple', 'content', 'exprs', 'order_by', 'args', 'projection', 'cluster_by',
  'distribute_by', 'sort_by', 'values', 'Rollup', 'Cube', 'GroupingSets', 'conditions', 'results', 'using',
]);

/** A Query node: a body plus the fields only queries carry. */
function isQuery(node: AstObject): boolean {
  return 'body' in node && 'locks' in node;
}

/** The node kind whose fields `value` holds, for the column-field skip list. */
function kindOf(key: string, value: unknown): string | undefined {
  if (key === 'Insert') return 'Insert';
  if ((key === 'assignments' || key === 'DuplicateKeyUpdate') && Array.isArray(value)) return 'Assignment';
  return undefined;
}

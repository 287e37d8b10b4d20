import type { CatalogFacts } from './catalog-facts.js';
import { PARAMETER } from './comparison-refusal.js';
import { type ClassSource, ComparedValues, type Facts } from './facts.js';
import { type AstNode, isAstNode, listField, nameList, stringField, unwrap } from './parse.js';
import { quoteIdent } from './relations.js';
import { groupKeys, outputsOf, sortKey } from './select-outputs.js';

/**
 * Comparisons PostgreSQL makes through a type's default btree or hash
 * operator class, with no operator written: ORDER BY, GROUP BY, DISTINCT
 * (ON), UNION/INTERSECT/EXCEPT without ALL, window PARTITION BY and ORDER
 * BY, an aggregate's ORDER BY and DISTINCT, min()/max() and the other
 * built-ins that compare, IN (subquery), CASE x WHEN, GREATEST/LEAST,
 * JOIN … USING, and every operator applied to a row, array or range (which
 * compares field by field, element by element). When the catalog has a type
 * whose class is user code (catalog-classes.ts), the walker tells this
 * tracker what each of those compares, and a statement that compares a value
 * that may be of such a type is refused.
 *
 * A compared value "may be of such a type" by the rules the typed operators
 * use (walk.ts): a column of one (by name, anywhere in the database), a cast
 * to one, a field of one, a whole-row value or a star when the statement
 * has a value of such a type somewhere, a parameter or an untyped literal
 * where nothing else fixes the type. What passes through a cast to another
 * type, a field selection, or a function that returns a type of its own is
 * no longer that value; what passes through a row, an array, CASE,
 * COALESCE, a scalar subquery or min() still is. Output columns a subquery
 * names anew (`select w as x`) are followed conservatively: after one, any
 * column a comparison names may be it.
 *
 * Nothing here runs unless the catalog has such a type.
 */

/** How much of what is beneath a node its enclosing compared values see. */
const SEE_ALL = 0;
/** An operator's operands: a parameter or literal there takes the operator's types, not the result's. */
const HIDE_SURFACE = 1;
/** A cast, a field selection, a function of its own result type, a key, a condition: nothing beneath flows out. */
const HIDE_ALL = 2;
type Hide = typeof SEE_ALL | typeof HIDE_SURFACE | typeof HIDE_ALL;

interface Registration {
  members: ComparedValues[];
  hide: Hide;
  /** A select's output column, a VALUES item, a function in FROM: a parameter here becomes a column of the statement. */
  output: boolean;
}

export interface Frame {
  readonly pushed: number;
  readonly surfaceFloor: number;
  readonly classFloor: number;
  readonly output: boolean;
}

/** Built-ins whose result has the type of an argument: what may be of such a type in the argument still may be after. */
const PASS_THROUGH: ReadonlySet<string> = new Set(
  `min max any_value unnest array_agg array_append array_prepend array_cat array_remove array_replace array_fill
   array_sample array_shuffle array_sort array_reverse trim_array first_value last_value nth_value lag lead
   range_merge multirange range_agg range_intersect_agg lower upper json_populate_record jsonb_populate_record
   json_populate_recordset jsonb_populate_recordset`
    .trim()
    .split(/\s+/),
);

/** Built-ins that compare their arguments (or an array's elements with one) through the type's class. */
const COMPARING: ReadonlySet<string> = new Set(
  `min max array_position array_positions array_remove array_replace array_sort width_bucket range_agg
   range_intersect_agg range_merge multirange`
    .trim()
    .split(/\s+/),
);

const A_EXPR_CLAUSES: Readonly<Record<string, string>> = {
  AEXPR_DISTINCT: 'IS DISTINCT FROM',
  AEXPR_NOT_DISTINCT: 'IS NOT DISTINCT FROM',
  AEXPR_NULLIF: 'NULLIF',
  AEXPR_IN: 'IN (…)',
  AEXPR_BETWEEN: 'BETWEEN',
  AEXPR_NOT_BETWEEN: 'NOT BETWEEN',
  AEXPR_BETWEEN_SYM: 'BETWEEN SYMMETRIC',
  AEXPR_NOT_BETWEEN_SYM: 'NOT BETWEEN SYMMETRIC',
};

const SET_OPERATIONS: Readonly<Record<string, string>> = { SETOP_UNION: 'UNION', SETOP_INTERSECT: 'INTERSECT', SETOP_EXCEPT: 'EXCEPT' };

const STAR_COLUMNS = 'the columns * expands to';

export class ComparisonTracker {
  private readonly registered = new WeakMap<object, Registration>();
  private readonly top = new WeakSet<object>();
  /** Compared values being walked, innermost last; those below a floor do not see what is walked now. */
  private readonly stack: ComparedValues[] = [];
  private surfaceFloor = 0;
  private classFloor = 0;
  private outputs = 0;

  constructor(
    private readonly facts: Facts,
    private readonly catalog: CatalogFacts,
    private readonly searchPath: readonly string[],
    private readonly user: string | undefined,
  ) {}

  /** The statement's own select: its output columns are what ORDER BY names, not columns a subquery renamed. */
  statement(select: AstNode): void {
    this.top.add(select);
    if (stringField(select, 'op') === 'SETOP_NONE' || stringField(select, 'op') === undefined) return;
    for (const arm of ['larg', 'rarg'] as const) if (isAstNode(select[arm])) this.statement(select[arm]);
  }

  /** Called before a wrapped node is walked; `leave` with what it returns after. */
  enter(node: object): Frame | undefined {
    const r = this.registered.get(node);
    if (r === undefined) return undefined;
    const frame: Frame = { pushed: r.members.length, surfaceFloor: this.surfaceFloor, classFloor: this.classFloor, output: r.output };
    if (r.hide >= HIDE_SURFACE) this.surfaceFloor = this.stack.length;
    if (r.hide === HIDE_ALL) this.classFloor = this.stack.length;
    this.stack.push(...r.members);
    if (r.output) this.outputs++;
    return frame;
  }

  leave(frame: Frame): void {
    this.stack.length -= frame.pushed;
    this.surfaceFloor = frame.surfaceFloor;
    this.classFloor = frame.classFloor;
    if (frame.output) this.outputs--;
  }

  /** Called as the walker meets each node, before its fields: registers what the node compares. */
  visit(type: string, body: AstNode): void {
    switch (type) {
      case 'SelectStmt':
        return this.select(body);
      case 'FuncCall':
        return this.call(body);
      case 'A_Expr':
        return this.operator(body);
      case 'SubLink':
        return this.subLink(body);
      case 'CaseExpr':
        return this.caseExpr(body);
      case 'MinMaxExpr':
        this.compare(stringField(body, 'op') === 'IS_LEAST' ? 'LEAST' : 'GREATEST', listField(body, 'args'), SEE_ALL);
        return;
      case 'WindowDef':
        for (const item of listField(body, 'partitionClause')) this.key(undefined, item, 'PARTITION BY');
        for (const item of listField(body, 'orderClause')) this.key(undefined, sortKey(item), 'a window ORDER BY');
        return;
      case 'JoinExpr':
        return this.join(body);
      case 'TypeCast':
        return this.cast(body);
      case 'A_Indirection': {
        const items = listField(body, 'indirection');
        const last = unwrap(items[items.length - 1]);
        if (last !== undefined && last[0] === 'String') this.register(body['arg'], [], HIDE_ALL);
        if (last !== undefined && last[0] === 'A_Star') this.rowish('a whole-row value (.*)');
        return;
      }
      case 'RangeFunction':
        for (const f of listField(body, 'functions')) this.register(f, [], SEE_ALL, true);
        return;
    }
  }

  // What the walker sees, recorded in every compared value above the floors.

  column(name: string): void {
    this.named(name, 'column');
    for (let i = this.classFloor; i < this.stack.length; i++) this.stack[i]!.columns = true;
  }

  field(name: string): void {
    this.named(name, 'field');
  }

  /**
   * Columns are matched by name across the database; a column can only be of
   * such a type when the statement reads a relation that has one (a table,
   * view or composite type of that name), which the decision checks.
   */
  private named(name: string, kind: string): void {
    const type = this.catalog.classes.column(name);
    if (type === undefined) return;
    const source = { what: `${kind} ${quoteIdent(name)}`, type };
    for (let i = this.classFloor; i < this.stack.length; i++) this.stack[i]!.named ??= source;
  }

  bare(name: string): void {
    for (let i = this.classFloor; i < this.stack.length; i++) this.stack[i]!.bare.push(name);
  }

  rowish(what: string): void {
    for (let i = this.classFloor; i < this.stack.length; i++) this.stack[i]!.rowish ??= what;
  }

  typeName(names: readonly string[]): void {
    const type = this.catalog.classType(names, this.searchPath, this.user);
    if (type !== undefined) this.classed({ what: `a value of type ${type.display}`, type });
  }

  relation(name: string): void {
    const type = this.catalog.classes.relation(name);
    if (type === undefined) return;
    this.facts.classRelation ??= name;
    this.facts.classPresence ??= { what: `table ${quoteIdent(name)}`, type };
  }

  param(): void {
    const type = this.catalog.classes.example;
    if (this.outputs > 0 && type !== undefined) this.facts.classPresence ??= { what: PARAMETER, type };
    for (let i = this.surfaceFloor; i < this.stack.length; i++) this.stack[i]!.param = true;
  }

  untyped(): void {
    for (let i = this.surfaceFloor; i < this.stack.length; i++) this.stack[i]!.untyped = true;
  }

  private classed(source: ClassSource): void {
    this.facts.classPresence ??= source;
    for (let i = this.classFloor; i < this.stack.length; i++) this.stack[i]!.classed ??= source;
  }

  // What each construct compares.

  private register(node: unknown, members: ComparedValues[], hide: Hide, output = false): void {
    if (!isAstNode(node)) return;
    const r = this.registered.get(node);
    if (r === undefined) {
      this.registered.set(node, { members, hide, output });
      return;
    }
    r.members.push(...members);
    r.hide = Math.max(r.hide, hide) as Hide;
    r.output ||= output;
  }

  /** Values compared with each other, one member per node (a list is one member). */
  private compare(clause: string, nodes: readonly unknown[], hide: Hide): ComparedValues[] {
    const members: ComparedValues[] = [];
    for (const node of nodes) {
      const m = new ComparedValues();
      members.push(m);
      if (Array.isArray(node)) for (const item of node) this.register(item, [m], hide);
      else this.register(node, [m], hide);
    }
    this.facts.comparisons.push({ clause, members });
    return members;
  }

  /**
   * One key compared with itself across rows. In a select's ORDER BY, GROUP
   * BY and DISTINCT ON, a number or a bare name may stand for an output
   * column: that column's expression is the key too.
   */
  private key(select: AstNode | undefined, node: unknown, clause: string): void {
    const [m] = this.compare(clause, [node], HIDE_ALL) as [ComparedValues];
    if (select === undefined) return;
    const leaves = outputsOf(select);
    const u = unwrap(node);
    const positions: number[] = [];
    if (u !== undefined && u[0] === 'A_Const' && isAstNode(u[1]['ival'])) {
      const n = u[1]['ival']['ival'];
      positions.push((typeof n === 'number' ? n : 0) - 1);
    } else if (u !== undefined && u[0] === 'ColumnRef') {
      const names = nameList(listField(u[1], 'fields'));
      if (names?.length === 1) {
        for (const leaf of leaves) leaf.forEach((item, i) => item.name === names[0] && positions.push(i));
      }
    }
    for (const leaf of leaves) {
      for (const p of positions) {
        // After a star, positions are the expanded columns': which one is meant is unknown here.
        if (leaf.slice(0, p + 1).some((i) => i.star)) m.rowish ??= STAR_COLUMNS;
        const item = leaf[p];
        if (item !== undefined && !item.star) this.register(item.node, [m], SEE_ALL);
      }
    }
  }

  private select(body: AstNode): void {
    const leaves = outputsOf(body);
    const own = stringField(body, 'op') ?? 'SETOP_NONE';
    if (own === 'SETOP_NONE') {
      const nested = !this.top.has(body);
      for (const item of leaves.flat()) {
        if (item.star) continue;
        // A subquery's column named anew: comparisons outside may name it by that name.
        const probe = nested && !item.plainColumn ? [this.renamed()] : [];
        this.register(item.node, probe, SEE_ALL, true);
      }
    }
    const distinct = listField(body, 'distinctClause');
    if (distinct.length === 1 && isAstNode(distinct[0]) && Object.keys(distinct[0]).length === 0) {
      for (const item of leaves.flat()) {
        const member = new ComparedValues();
        this.facts.comparisons.push({ clause: 'DISTINCT', members: [member] });
        if (item.star) member.rowish = STAR_COLUMNS;
        else this.register(item.node, [member], SEE_ALL);
      }
    } else {
      for (const item of distinct) this.key(body, item, 'DISTINCT ON');
    }
    for (const item of listField(body, 'sortClause')) this.key(body, sortKey(item), 'ORDER BY');
    for (const item of groupKeys(listField(body, 'groupClause'))) this.key(body, item, 'GROUP BY');
    const setOp = SET_OPERATIONS[own];
    if (setOp !== undefined && body['all'] !== true) {
      const width = Math.max(0, ...leaves.map((l) => l.length));
      for (let p = 0; p < width; p++) {
        const members: ComparedValues[] = [];
        for (const leaf of leaves) {
          const item = leaf[p];
          const afterStar = leaf.slice(0, p + 1).some((i) => i.star);
          if (item === undefined && !afterStar) continue;
          const m = new ComparedValues();
          members.push(m);
          if (afterStar) m.rowish = STAR_COLUMNS;
          if (item !== undefined && !item.star) this.register(item.node, [m], SEE_ALL);
        }
        this.facts.comparisons.push({ clause: setOp, members });
      }
    }
  }

  private renamed(): ComparedValues {
    const probe = new ComparedValues();
    this.facts.renamed.push(probe);
    return probe;
  }

  private call(body: AstNode): void {
    const names = nameList(listField(body, 'funcname'));
    const builtin = names !== undefined && (names.length === 1 || (names.length === 2 && names[0] === 'pg_catalog')) ? names[names.length - 1] : undefined;
    const fname = builtin ?? names?.join('.') ?? 'a function';
    const args = listField(body, 'args');
    const order = listField(body, 'agg_order').map(sortKey);
    if (body['agg_within_group'] === true) {
      // The sort key is the result (mode(), percentile_disc()), and hypothetical-set aggregates compare the arguments with it.
      this.compare(`${fname}() WITHIN GROUP`, [...order, ...args], SEE_ALL);
    } else {
      for (const key of order) this.key(undefined, key, `ORDER BY in ${fname}()`);
      if (body['agg_distinct'] === true) for (const arg of args) this.key(undefined, arg, `${fname}(DISTINCT …)`);
    }
    const passes = builtin !== undefined && PASS_THROUGH.has(builtin);
    if (builtin !== undefined && COMPARING.has(builtin)) this.compare(`${fname}()`, args, passes ? SEE_ALL : HIDE_ALL);
    else for (const arg of args) this.register(arg, [], passes ? SEE_ALL : HIDE_ALL);
    this.register(body['agg_filter'], [], HIDE_ALL);
  }

  private operator(body: AstNode): void {
    const lexpr = body['lexpr'];
    const rexpr = body['rexpr'];
    if (lexpr === undefined || rexpr === undefined) {
      // A prefix operator compares nothing; what it returns is its own type.
      this.register(rexpr ?? lexpr, [], HIDE_SURFACE);
      return;
    }
    const kind = stringField(body, 'kind') ?? 'AEXPR_OP';
    const op = nameList(listField(body, 'name'))?.join('.') ?? '';
    const clause = A_EXPR_CLAUSES[kind] ?? (kind === 'AEXPR_OP_ANY' ? `${op} ANY` : kind === 'AEXPR_OP_ALL' ? `${op} ALL` : `operator ${op}`);
    this.compare(clause, [lexpr, rexpr], HIDE_SURFACE);
  }

  private subLink(body: AstNode): void {
    const kind = stringField(body, 'subLinkType');
    if (kind === 'EXPR_SUBLINK' || kind === 'ARRAY_SUBLINK') return; // its column is its value
    this.register(body['subselect'], [], HIDE_ALL);
    if (kind !== 'ANY_SUBLINK' && kind !== 'ALL_SUBLINK' && kind !== 'ROWCOMPARE_SUBLINK') return;
    const op = nameList(listField(body, 'operName'))?.join('.');
    const clause = op === undefined || op === '' ? 'IN (subquery)' : `${op} ${kind === 'ALL_SUBLINK' ? 'ALL' : 'ANY'} (subquery)`;
    const [, outputs] = this.compare(clause, [body['testexpr'], []], HIDE_ALL) as [ComparedValues, ComparedValues];
    const select = unwrap(body['subselect']);
    if (select === undefined || select[0] !== 'SelectStmt') return;
    for (const item of outputsOf(select[1]).flat()) {
      if (item.star) outputs.rowish ??= STAR_COLUMNS;
      else this.register(item.node, [outputs], SEE_ALL);
    }
  }

  private caseExpr(body: AstNode): void {
    const whens = listField(body, 'args').map((w) => {
      const u = unwrap(w);
      return u !== undefined && u[0] === 'CaseWhen' ? u[1]['expr'] : undefined;
    });
    // CASE x WHEN y compares x with each y; a searched CASE only tests conditions. Either way only the results flow out.
    if (isAstNode(body['arg']) && Object.keys(body['arg']).length > 0) this.compare('CASE', [body['arg'], whens], HIDE_ALL);
    else for (const w of whens) this.register(w, [], HIDE_ALL);
  }

  private join(body: AstNode): void {
    if (body['isNatural'] === true) {
      const m = new ComparedValues();
      m.rowish = 'the columns a NATURAL JOIN compares';
      this.facts.comparisons.push({ clause: 'NATURAL JOIN', members: [m] });
    }
    for (const name of nameList(listField(body, 'usingClause')) ?? []) {
      const type = this.catalog.classes.column(name);
      if (type === undefined) continue;
      const m = new ComparedValues();
      m.named = { what: `column ${quoteIdent(name)}`, type };
      this.facts.comparisons.push({ clause: 'JOIN … USING', members: [m] });
    }
  }

  /** A cast to a type that is not of such a class (nor record, which compares field by field) ends the value's type. */
  private cast(body: AstNode): void {
    const typeName = body['typeName'];
    const names = isAstNode(typeName) ? nameList(listField(typeName, 'names')) : undefined;
    const last = names?.[names.length - 1];
    if (names === undefined || last === undefined || last === 'record' || last.startsWith('any')) return;
    if (this.catalog.classType(names, this.searchPath, this.user) !== undefined) return;
    this.register(body['arg'], [], HIDE_ALL);
  }
}

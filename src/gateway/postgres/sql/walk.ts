import { CatalogFacts } from './catalog-facts.js';
import { ComparisonTracker } from './comparisons.js';
import { type Facts, type TypedOperatorUse, ValueSources } from './facts.js';
import { classifyFunction, isBuiltinOperator, isBuiltinTablesample } from './functions-allowed.js';
import { type AstNode, isAstNode, listField, nameList, stringField, unwrap } from './parse.js';
import { catalogSearchedFirst, quoteIdent } from './relations.js';
import { clearsSearchPath, relationKindRestriction } from './set-config.js';
import { GENERIC_NODES, LEAF_NODES, inlineType } from './tree-shape.js';

/**
 * Walks queries and data-modifying statements (and every subquery, CTE body
 * and set-operation arm inside them), recording into `Facts` every relation
 * named, every function called and every clause that writes or locks.
 *
 * CTE names are tracked as PostgreSQL scopes them, because mistaking a real
 * table for a CTE would let it through unchecked: a non-recursive CTE is not
 * visible in its own body (`WITH t AS (SELECT * FROM t)` reads the table t),
 * a schema-qualified name is never a CTE, and DML targets are always tables.
 */

type CteScope = ReadonlySet<string>;

/** What the walker needs to know about the database to see user code the text does not name (catalog-facts.ts). */
export interface CatalogContext {
  readonly catalog: CatalogFacts;
  /** The search_path unqualified names resolve against (current_schemas(true) in the gateway). */
  readonly searchPath: readonly string[];
  readonly user?: string;
}

const NO_CATALOG: CatalogContext = { catalog: CatalogFacts.NONE, searchPath: [] };

/** The parser spells these by keyword; PostgreSQL runs the type's own comparison operators by name. */
const BETWEEN_OPERATORS: Readonly<Record<string, readonly string[]>> = {
  BETWEEN: ['>=', '<='],
  'BETWEEN SYMMETRIC': ['>=', '<='],
  'NOT BETWEEN': ['<', '>'],
  'NOT BETWEEN SYMMETRIC': ['<', '>'],
};

/** Deeper than any hand-written query; a guard against stack exhaustion on machine-made ones. */
const MAX_DEPTH = 1000;

const LOCK_VERBS: Readonly<Record<string, string>> = {
  LCS_FORKEYSHARE: 'SELECT FOR KEY SHARE',
  LCS_FORSHARE: 'SELECT FOR SHARE',
  LCS_FORNOKEYUPDATE: 'SELECT FOR NO KEY UPDATE',
  LCS_FORUPDATE: 'SELECT FOR UPDATE',
};

const DML_VERBS: Readonly<Record<string, string>> = {
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
};

export class QueryWalker {
  private depth = 0;
  /** `SELECT t.*` in a target list expands to columns; elsewhere `t.*` is a row value. */
  private readonly expandedStars = new WeakSet<AstNode>();
  /** Operands of typed user operators being walked, innermost last: each value source is recorded in all of them. */
  private readonly operands: ValueSources[] = [];

  /** set_config calls the statement's shape shows only narrow what the session may do (set-config.ts). */
  private readonly narrowingCalls = new WeakSet<AstNode>();
  /** What the statement compares through a type's operator class; only when the catalog has a type whose class is user code. */
  private readonly compare: ComparisonTracker | undefined;

  constructor(
    private readonly facts: Facts,
    private readonly ctx: CatalogContext = NO_CATALOG,
  ) {
    if (ctx.catalog.tracksClassTypes) this.compare = new ComparisonTracker(facts, ctx.catalog, ctx.searchPath, ctx.user);
  }

  /** Walks a wrapped statement node (`{SelectStmt: …}` etc.) at top level. */
  statement(node: unknown): void {
    const u = unwrap(node);
    const call = u !== undefined && u[0] === 'SelectStmt' ? relationKindRestriction(u[1]) : undefined;
    if (call !== undefined) this.narrowingCalls.add(call);
    if (u !== undefined && u[0] === 'SelectStmt') this.compare?.statement(u[1]);
    this.node(node, new Set());
  }

  /** An expression outside any query (COPY … WHERE). */
  expression(node: unknown): void {
    this.node(node, new Set());
  }

  /** A relation that is always a real table (LOCK, TRUNCATE, COPY, CREATE … AS targets), wrapped or inline. */
  table(node: unknown): void {
    const u = unwrap(node);
    this.targetRelation(u !== undefined && u[0] === 'RangeVar' ? u[1] : node);
  }

  private node(node: unknown, ctes: CteScope): void {
    if (isAstNode(node) && isEmpty(node)) return; // the JSON form of a NIL list element
    const u = unwrap(node);
    if (u === undefined) {
      this.facts.opaqueNeed('admin', 'a statement airlock could not read');
      return;
    }
    const frame = this.compare?.enter(node as AstNode);
    try {
      this.typed(u[0], u[1], ctes);
    } finally {
      if (frame !== undefined) this.compare!.leave(frame);
    }
  }

  private typed(type: string, body: AstNode, ctes: CteScope): void {
    if (LEAF_NODES.has(type)) {
      if (type === 'A_Const') {
        if (body['sval'] !== undefined || body['bsval'] !== undefined || body['isnull'] === true) {
          this.untypedSeen();
          this.compare?.untyped();
        }
      } else if (type === 'ParamRef') {
        // Its type is whatever the client declares in Parse, which the check does not see.
        if (this.ctx.catalog.tracksTypedValues) this.sourceSeen('a parameter, whose type the client may declare');
        this.compare?.param();
      }
      return;
    }
    this.depth++;
    try {
      if (this.depth > MAX_DEPTH) throw new NestingTooDeep();
      this.dispatch(type, body, ctes);
    } finally {
      this.depth--;
    }
  }

  private dispatch(type: string, body: AstNode, ctes: CteScope): void {
    this.compare?.visit(type, body);
    switch (type) {
      case 'SelectStmt':
        return this.select(body, ctes);
      case 'InsertStmt':
      case 'UpdateStmt':
      case 'DeleteStmt':
      case 'MergeStmt':
        return this.dml(type, body, ctes);
      case 'RangeVar':
        return this.rangeVar(body, ctes);
      case 'FuncCall':
        this.functionCall(listField(body, 'funcname'), body);
        return this.fields(type, body, ctes, FUNCNAME);
      case 'A_Expr': {
        const typed = this.operator(listField(body, 'name'));
        if (typed === undefined) return this.fields(type, body, ctes, NAME);
        const left = this.operand(body['lexpr'], ctes);
        const right = this.operand(body['rexpr'], ctes);
        this.facts.typedOperands.push({ op: typed.op, uses: typed.uses, left, right });
        return this.fields(type, body, ctes, A_EXPR_HANDLED);
      }
      case 'SubLink': // x OPERATOR(s.op) ANY (SELECT …)
        this.statementOperator(this.operator(listField(body, 'operName')));
        // x IN (SELECT …) compares with = by name
        if (listField(body, 'operName').length === 0 && stringField(body, 'subLinkType') === 'ANY_SUBLINK') this.catalogOperator(['=']);
        return this.fields(type, body, ctes, OPER_NAME);
      case 'ColumnRef':
        this.columnRef(body);
        return this.fields(type, body, ctes, NONE);
      case 'A_Indirection': {
        this.indirection(body);
        const items = listField(body, 'indirection');
        const last = unwrap(items[items.length - 1]);
        if (last === undefined || last[0] !== 'String' || this.operands.length === 0) return this.fields(type, body, ctes, NONE);
        // `(x).f` is the field's value, not x's: what x may be is no operand's concern (the statement still counts it).
        const saved = this.operands.splice(0);
        try {
          this.value(body['arg'], ctes);
        } finally {
          this.operands.push(...saved);
        }
        return this.fields(type, body, ctes, ARG);
      }
      case 'TypeName':
        this.typeName(body);
        return this.fields(type, body, ctes, NONE);
      case 'RowExpr':
        if (this.ctx.catalog.tracksTypedValues) this.sourceSeen('a row value');
        return this.fields(type, body, ctes, NONE);
      case 'CaseExpr': // CASE x WHEN y compares with = by name
        if (isAstNode(body['arg']) && !isEmpty(body['arg'])) this.catalogOperator(['=']);
        return this.fields(type, body, ctes, NONE);
      case 'JoinExpr':
        this.join(body);
        return this.fields(type, body, ctes, NONE);
      case 'RangeSubselect':
      case 'RangeTableFunc':
        this.rangeName(body['alias']);
        return this.fields(type, body, ctes, NONE);
      case 'RangeFunction':
        this.rangeFunction(body);
        return this.fields(type, body, ctes, NONE);
      case 'SortBy': // ORDER BY x USING s.op
        this.statementOperator(this.operator(listField(body, 'useOp')));
        return this.fields(type, body, ctes, USE_OP);
      case 'RangeTableSample': {
        const method = nameList(listField(body, 'method'));
        if (method === undefined || !isBuiltinTablesample(method)) {
          this.facts.opaqueNeed('admin', `TABLESAMPLE ${method?.join('.') ?? ''}`.trim());
        }
        return this.fields(type, body, ctes, METHOD);
      }
      default:
        if (GENERIC_NODES.has(type)) return this.fields(type, body, ctes, NONE);
        this.facts.opaqueNeed('admin', `the SQL construct ${type}`);
    }
  }

  /** Walks every field; `skip` lists fields already handled by the caller. */
  private fields(type: string, body: AstNode, ctes: CteScope, skip: ReadonlySet<string>): void {
    for (const key in body) {
      if (skip.has(key)) continue;
      const value = body[key];
      if (Array.isArray(value)) {
        for (const item of value) if (isAstNode(item)) this.node(item, ctes);
      } else if (isAstNode(value)) {
        const inline = inlineType(type, key);
        if (inline !== undefined) this.typed(inline, value, ctes);
        else this.node(value, ctes);
      }
    }
  }

  private select(body: AstNode, outer: CteScope): void {
    const ctes = this.withClause(body['withClause'], outer);
    if (this.ctx.catalog.tracksTypedValues || this.compare !== undefined) {
      for (const item of listField(body, 'targetList')) {
        const target = unwrap(item);
        const val = target !== undefined && target[0] === 'ResTarget' ? unwrap(target[1]['val']) : undefined;
        if (val !== undefined && val[0] === 'ColumnRef') this.expandedStars.add(val[1]);
      }
    }
    const into = body['intoClause'];
    if (isAstNode(into)) {
      this.facts.need('ddl', 'SELECT INTO');
      this.targetRelation(into['rel']);
      this.fields('IntoClause', into, ctes, REL);
    }
    for (const lc of listField(body, 'lockingClause')) {
      const u = unwrap(lc);
      const strength = u !== undefined && u[0] === 'LockingClause' ? stringField(u[1], 'strength') : undefined;
      this.facts.need('write', (strength !== undefined ? LOCK_VERBS[strength] : undefined) ?? 'SELECT with a locking clause');
    }
    for (const arm of ['larg', 'rarg'] as const) {
      const v = body[arm];
      if (isAstNode(v)) this.typed('SelectStmt', v, ctes);
    }
    this.fields('SelectStmt', body, ctes, SELECT_HANDLED);
  }

  private dml(type: string, body: AstNode, outer: CteScope): void {
    const ctes = this.withClause(body['withClause'], outer);
    this.facts.need('write', DML_VERBS[type] ?? type);
    this.targetRelation(body['relation']);
    this.fields(type, body, ctes, DML_HANDLED);
  }

  /** Returns the scope the statement body sees: the outer CTEs plus these. */
  private withClause(clause: unknown, outer: CteScope): CteScope {
    if (!isAstNode(clause)) return outer;
    const ctes: Array<readonly [string, AstNode]> = [];
    for (const item of listField(clause, 'ctes')) {
      const u = unwrap(item);
      const name = u !== undefined && u[0] === 'CommonTableExpr' ? stringField(u[1], 'ctename') : undefined;
      if (u === undefined || name === undefined) {
        this.facts.opaqueNeed('admin', 'a WITH clause airlock could not read');
        return outer;
      }
      ctes.push([name, u[1]]);
      if (listField(u[1], 'aliascolnames').length > 0) this.facts.columnAliases = true;
    }
    const all = new Set(outer);
    for (const [name] of ctes) {
      all.add(name);
      this.facts.rangeNames.add(name);
    }
    let visible: Set<string> = new Set(outer);
    for (const [name, cte] of ctes) {
      const bodyScope = clause['recursive'] === true ? all : visible;
      this.node(cte['ctequery'], bodyScope);
      this.fields('CommonTableExpr', cte, bodyScope, CTE_HANDLED);
      visible = new Set(visible).add(name);
    }
    return all;
  }

  private rangeVar(body: AstNode, ctes: CteScope): void {
    const name = stringField(body, 'relname');
    const schema = stringField(body, 'schemaname');
    if (name !== undefined) this.facts.rangeNames.add(name);
    this.rangeName(body['alias']);
    if (name !== undefined && schema === undefined && ctes.has(name)) return;
    if (name !== undefined && this.ctx.catalog.tracksTypedValues && this.ctx.catalog.isTypedRelation(name)) {
      this.facts.typedRelation ??= name;
    }
    if (name !== undefined) this.compare?.relation(name);
    this.relationOf(body);
  }

  /** An alias names a FROM item, whose bare name is then a whole-row value. */
  private rangeName(alias: unknown): void {
    if (!isAstNode(alias)) return;
    const name = stringField(alias, 'aliasname');
    if (name !== undefined) this.facts.rangeNames.add(name);
    // `AS s(a, b)` renames columns: a typed column may then go by a name the catalog does not know.
    if (listField(alias, 'colnames').length > 0) this.facts.columnAliases = true;
  }

  private rangeFunction(body: AstNode): void {
    if (isAstNode(body['alias'])) {
      this.rangeName(body['alias']);
      return;
    }
    // Unaliased, a function in FROM is named after the function.
    for (const item of listField(body, 'functions')) {
      const list = unwrap(item);
      const first = list !== undefined && list[0] === 'List' ? unwrap(listField(list[1], 'items')[0]) : undefined;
      const names = first !== undefined && first[0] === 'FuncCall' ? nameList(listField(first[1], 'funcname')) : undefined;
      const last = names?.[names.length - 1];
      if (last !== undefined) this.facts.rangeNames.add(last);
    }
  }

  /** JOIN … USING and NATURAL JOIN compare the joined columns with = by name. */
  private join(body: AstNode): void {
    this.rangeName(body['alias']);
    const using = nameList(listField(body, 'usingClause'));
    const natural = body['isNatural'] === true;
    if ((using === undefined || using.length === 0) && !natural) return;
    this.catalogOperator(['=']);
    if (!this.ctx.catalog.tracksTypedValues) return;
    if (natural) this.sourceSeen('the columns a NATURAL JOIN compares');
    for (const name of using ?? []) {
      if (this.ctx.catalog.isTypedColumn(name)) this.sourceSeen(`column ${quoteIdent(name)}`);
    }
  }

  /**
   * `a.b`, `s.t.b`: every name after the first may be a function applied to
   * what precedes it (attribute notation), when no column of that name exists.
   */
  private columnRef(body: AstNode): void {
    const fields = listField(body, 'fields');
    const tracks = this.ctx.catalog.tracksTypedValues;
    for (let i = 0; i < fields.length; i++) {
      const u = unwrap(fields[i]);
      if (u === undefined) continue;
      if (u[0] === 'A_Star') {
        if (i >= 1 && !this.expandedStars.has(body)) {
          if (tracks) this.sourceSeen('a whole-row value (.*)');
          this.compare?.rowish('a whole-row value (.*)');
        }
        continue;
      }
      const name = u[0] === 'String' ? stringField(u[1], 'sval') : undefined;
      if (name === undefined) continue;
      if (i >= 1) this.attribute(name);
      // Names before the last are a schema, a table or an alias; the last is the column.
      if (tracks && i === fields.length - 1 && this.ctx.catalog.isTypedColumn(name)) this.sourceSeen(`column ${quoteIdent(name)}`);
      if (fields.length === 1 && tracks) this.bareSeen(name);
      if (i === fields.length - 1) this.compare?.column(name);
      if (fields.length === 1) this.compare?.bare(name);
    }
  }

  /** `(expr).b`: the same attribute notation after any expression. */
  private indirection(body: AstNode): void {
    for (const item of listField(body, 'indirection')) {
      const u = unwrap(item);
      const name = u !== undefined && u[0] === 'String' ? stringField(u[1], 'sval') : undefined;
      if (name === undefined) continue;
      this.attribute(name);
      if (this.ctx.catalog.tracksTypedValues && this.ctx.catalog.isTypedColumn(name)) this.sourceSeen(`column ${quoteIdent(name)}`);
      this.compare?.field(name);
    }
  }

  /** `.name` after a value runs name(value) when the value has no such column and such a function exists. */
  private attribute(name: string): void {
    const { catalog, searchPath, user } = this.ctx;
    const shown = quoteIdent(name);
    const userFunction = catalog.userAttributeFunction(name, searchPath, user);
    if (userFunction !== undefined) {
      this.facts.opaqueNeed(
        'admin',
        `function ${userFunction}() through attribute notation (".${shown}" calls ${shown}() on the row or value before it; ` +
          `a column named ${shown} is refused too while that function exists)`,
      );
      return;
    }
    if (!catalog.isSystemOneArgFunction(name)) return;
    const verdict = classifyFunction([name]);
    const what = `function ${shown}() through attribute notation (".${shown}" calls ${shown}() on the value before it)`;
    if (!verdict.known) this.facts.opaqueNeed(verdict.cls, what);
    else if (verdict.cls !== 'read') this.facts.need(verdict.cls, what);
  }

  /** A type named in a cast (or a column definition list, RETURNING, …): converting to it runs its input and checks. */
  private typeName(body: AstNode): void {
    const names = nameList(listField(body, 'names'));
    if (names === undefined || names.length === 0) return;
    const { catalog, searchPath, user } = this.ctx;
    const code = catalog.codeType(names, searchPath, user);
    if (code !== undefined) {
      this.facts.opaqueNeed('admin', `type ${code.display} (${code.why})`);
      return;
    }
    this.compare?.typeName(names);
    if (!catalog.tracksTypedValues) return;
    const typed = catalog.typedType(names, searchPath, user);
    if (typed !== undefined) this.sourceSeen(`a value of type ${typed}`);
    const cast = catalog.typedCast(names, searchPath, user);
    if (cast !== undefined) this.facts.typedUses.push(cast);
  }

  /** A relation that is always a real table, whatever CTEs are in scope (DML targets, INTO). */
  private targetRelation(node: unknown): void {
    if (isAstNode(node)) this.relationOf(node);
    else this.facts.opaqueNeed('admin', 'a statement without a readable target table');
  }

  private relationOf(body: AstNode): void {
    const name = stringField(body, 'relname');
    if (name === undefined) {
      this.facts.opaqueNeed('admin', 'a table reference airlock could not read');
      return;
    }
    const schema = stringField(body, 'schemaname');
    const ref = schema === undefined ? { name } : { schema, name };
    this.facts.relation(ref);
    this.facts.queried.push(ref);
  }

  private functionCall(funcname: readonly unknown[], call: AstNode): void {
    const names = nameList(funcname);
    if (names === undefined || names.length === 0) {
      this.facts.opaqueNeed('admin', 'a function airlock could not read', 'function');
      return;
    }
    let verdict = classifyFunction(names);
    // The two calls pg_dump makes on connect; why these and only these, in set-config.ts.
    const clears = clearsSearchPath(call) && catalogSearchedFirst(this.ctx.searchPath);
    if (!verdict.known && verdict.display === 'set_config' && (clears || this.narrowingCalls.has(call))) {
      verdict = { cls: 'read', known: true, display: 'set_config' };
    }
    if (!verdict.known) {
      this.facts.opaqueNeed(verdict.cls, verdict.display, 'function');
      return;
    }
    // A trusted built-in name, unless user code of that name may be what the call resolves to.
    const { catalog, searchPath, user } = this.ctx;
    const shadow = catalog.userFunctionShadowing(names, searchPath, user);
    if (shadow === undefined) {
      this.facts.need(verdict.cls, verdict.display, 'function');
    } else if (names.length === 1) {
      this.facts.opaqueNeed('admin', `function ${verdict.display}() here: ${shadow}() is user code of the same name (write pg_catalog.${verdict.display}() for the built-in)`);
    } else {
      this.facts.opaqueNeed('admin', `function ${shadow}(), which is not PostgreSQL's own`);
    }
  }

  /**
   * An operator runs whatever function it is bound to; only PostgreSQL's own
   * are trusted. Returns the user operators of that name that need a value
   * of a user-defined type, for the caller to match against its operands.
   */
  private operator(name: readonly unknown[]): { op: string; uses: TypedOperatorUse[] } | undefined {
    if (name.length === 0) return undefined; // no operator in this clause
    const names = nameList(name);
    if (names === undefined) {
      this.facts.opaqueNeed('admin', 'an operator airlock could not read');
      return undefined;
    }
    if (!isBuiltinOperator(names)) {
      this.facts.opaqueNeed('admin', `operator ${names.join('.')}`);
      return undefined;
    }
    const last = names[names.length - 1] ?? '';
    const between = BETWEEN_OPERATORS[last];
    const uses: TypedOperatorUse[] = [];
    for (const op of between ?? [last]) uses.push(...this.userOperators([...names.slice(0, -1), op]));
    return uses.length === 0 ? undefined : { op: between === undefined ? last : between.join('/'), uses };
  }

  /**
   * User operators a built-in operator name may resolve to here
   * (catalog-facts.ts): one usable on built-in values refuses the statement
   * at once; those that need a user-defined type are returned.
   */
  private userOperators(names: readonly string[]): TypedOperatorUse[] {
    const { catalog, searchPath, user } = this.ctx;
    const op = names[names.length - 1] ?? '';
    const typed: TypedOperatorUse[] = [];
    for (const u of catalog.userOperators(names, searchPath, user)) {
      if (u.mode === 'any') {
        this.facts.opaqueNeed('admin', `operator ${op} here: ${u.display} is user code (write OPERATOR(pg_catalog.${op}) for the built-in)`);
        return [];
      }
      typed.push({ display: u.display, left: u.left, right: u.right, unknownReaches: u.unknownReaches });
    }
    return typed;
  }

  /** An operator PostgreSQL applies without it being written (CASE x WHEN, JOIN USING, IN (SELECT …)): any value in the statement counts. */
  private catalogOperator(names: readonly string[]): void {
    this.statementOperator({ op: names[names.length - 1] ?? '', uses: this.userOperators(names) });
  }

  /** Typed user operators whose operands are not walked apart (ORDER BY … USING, x op ANY (SELECT …)): judged on the whole statement. */
  private statementOperator(typed: { op: string; uses: readonly TypedOperatorUse[] } | undefined): void {
    if (typed === undefined || typed.uses.length === 0) return;
    if (typed.uses.some((u) => u.unknownReaches)) this.facts.untypedReaches = true;
    this.facts.typedUses.push(`operator ${typed.op} here: ${describeTyped(typed.uses)}`);
  }

  /** Walks one operand of a typed operator, collecting the value sources in it. */
  private operand(value: unknown, ctes: CteScope): ValueSources {
    const sources = new ValueSources();
    this.operands.push(sources);
    try {
      this.value(value, ctes);
    } finally {
      this.operands.pop();
    }
    return sources;
  }

  /** One field's value, walked as `fields` walks it: a node, or a list of nodes; anything else holds none. */
  private value(value: unknown, ctes: CteScope): void {
    if (Array.isArray(value)) {
      for (const item of value) if (isAstNode(item)) this.node(item, ctes);
    } else if (isAstNode(value)) {
      this.node(value, ctes);
    }
  }

  private sourceSeen(what: string): void {
    this.facts.values.typed ??= what;
    for (const o of this.operands) o.typed ??= what;
  }

  private untypedSeen(): void {
    this.facts.values.untyped = true;
    for (const o of this.operands) o.untyped = true;
  }

  private bareSeen(name: string): void {
    this.facts.values.bare.push(name);
    for (const o of this.operands) o.bare.push(name);
  }
}

/** `user code defines it for a user-defined type (public.=(public.wrap, integer) and 2 more)` */
export function describeTyped(uses: readonly TypedOperatorUse[]): string {
  const more = uses.length > 1 ? ` and ${uses.length - 1} more` : '';
  return `user code defines it for a user-defined type (${uses[0]?.display ?? ''}${more})`;
}

export class NestingTooDeep extends Error {
  constructor() {
    super('the statement is nested too deeply to check');
  }
}

function isEmpty(node: AstNode): boolean {
  for (const _ in node) return false;
  return true;
}

const NONE: ReadonlySet<string> = new Set();
const FUNCNAME: ReadonlySet<string> = new Set(['funcname']);
const NAME: ReadonlySet<string> = new Set(['name']);
const A_EXPR_HANDLED: ReadonlySet<string> = new Set(['name', 'lexpr', 'rexpr']);
const ARG: ReadonlySet<string> = new Set(['arg']);
const OPER_NAME: ReadonlySet<string> = new Set(['operName']);
const USE_OP: ReadonlySet<string> = new Set(['useOp']);
const METHOD: ReadonlySet<string> = new Set(['method']);
const REL: ReadonlySet<string> = new Set(['rel']);
const CTE_HANDLED: ReadonlySet<string> = new Set(['ctequery']);
const SELECT_HANDLED: ReadonlySet<string> = new Set(['withClause', 'intoClause', 'lockingClause', 'larg', 'rarg']);
const DML_HANDLED: ReadonlySet<string> = new Set(['withClause', 'relation']);

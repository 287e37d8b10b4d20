import type { Facts } from './facts.js';
import { classifyFunction, isBuiltinOperator, isBuiltinTablesample } from './functions-allowed.js';
import { type AstNode, isAstNode, listField, nameList, stringField, unwrap } from './parse.js';
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

  constructor(private readonly facts: Facts) {}

  /** Walks a wrapped statement node (`{SelectStmt: …}` etc.) at top level. */
  statement(node: unknown): void {
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
    this.typed(u[0], u[1], ctes);
  }

  private typed(type: string, body: AstNode, ctes: CteScope): void {
    if (LEAF_NODES.has(type)) return;
    this.depth++;
    try {
      if (this.depth > MAX_DEPTH) throw new NestingTooDeep();
      this.dispatch(type, body, ctes);
    } finally {
      this.depth--;
    }
  }

  private dispatch(type: string, body: AstNode, ctes: CteScope): void {
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
        this.functionCall(listField(body, 'funcname'));
        return this.fields(type, body, ctes, FUNCNAME);
      case 'A_Expr':
        this.operator(listField(body, 'name'));
        return this.fields(type, body, ctes, NAME);
      case 'SubLink': // x OPERATOR(s.op) ANY (SELECT …)
        this.operator(listField(body, 'operName'));
        return this.fields(type, body, ctes, OPER_NAME);
      case 'SortBy': // ORDER BY x USING s.op
        this.operator(listField(body, 'useOp'));
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
    }
    const all = new Set(outer);
    for (const [name] of ctes) all.add(name);
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
    if (name !== undefined && schema === undefined && ctes.has(name)) return;
    this.relationOf(body);
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
    this.facts.relation(schema === undefined ? { name } : { schema, name });
  }

  private functionCall(funcname: readonly unknown[]): void {
    const names = nameList(funcname);
    if (names === undefined || names.length === 0) {
      this.facts.opaqueNeed('admin', 'a function airlock could not read', 'function');
      return;
    }
    const verdict = classifyFunction(names);
    if (verdict.known) this.facts.need(verdict.cls, verdict.display, 'function');
    else this.facts.opaqueNeed(verdict.cls, verdict.display, 'function');
  }

  /** An operator runs whatever function it is bound to; only PostgreSQL's own are trusted. */
  private operator(name: readonly unknown[]): void {
    if (name.length === 0) return; // no operator in this clause
    const names = nameList(name);
    if (names === undefined) this.facts.opaqueNeed('admin', 'an operator airlock could not read');
    else if (!isBuiltinOperator(names)) this.facts.opaqueNeed('admin', `operator ${names.join('.')}`);
  }
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
const OPER_NAME: ReadonlySet<string> = new Set(['operName']);
const USE_OP: ReadonlySet<string> = new Set(['useOp']);
const METHOD: ReadonlySet<string> = new Set(['method']);
const REL: ReadonlySet<string> = new Set(['rel']);
const CTE_HANDLED: ReadonlySet<string> = new Set(['ctequery']);
const SELECT_HANDLED: ReadonlySet<string> = new Set(['withClause', 'intoClause', 'lockingClause', 'larg', 'rarg']);
const DML_HANDLED: ReadonlySet<string> = new Set(['withClause', 'relation']);

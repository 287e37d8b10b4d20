/**
 * Which parse-tree nodes the query walker understands, and which fields hold
 * a struct inline rather than a wrapped `{ Type: … }` node (the JSON form of
 * libpg_query elides the wrapper where the C field has a concrete type).
 * A node type missing here is treated as unknown and refused for any role
 * that does not allow admin: new syntax must be reviewed before it passes.
 */

/** Leaves: nothing beneath them can name a table or call a function. */
export const LEAF_NODES: ReadonlySet<string> = new Set([
  'A_Const', 'A_Star', 'Alias', 'BitString', 'Boolean', 'CurrentOfExpr', 'Float', 'Integer', 'JsonFormat',
  'MergeSupportFunc', 'ParamRef', 'SQLValueFunction', 'SetToDefault', 'String',
]);

/** Expression and clause nodes whose every field is walked the same way. */
export const GENERIC_NODES: ReadonlySet<string> = new Set([
  'A_ArrayExpr', 'A_Indices', 'A_Indirection', 'BoolExpr', 'BooleanTest', 'CTECycleClause', 'CTESearchClause',
  'CaseExpr', 'CaseWhen', 'CoalesceExpr', 'CollateClause', 'ColumnDef', 'ColumnRef', 'GroupingFunc',
  'GroupingSet', 'IndexElem', 'InferClause', 'JoinExpr', 'List', 'MergeWhenClause', 'MinMaxExpr',
  'MultiAssignRef', 'NamedArgExpr', 'NullTest', 'OnConflictClause', 'RangeFunction', 'RangeSubselect',
  'RangeTableFunc', 'RangeTableFuncCol', 'ResTarget', 'ReturningClause', 'ReturningOption', 'RowExpr',
  'TypeCast', 'TypeName', 'WindowDef', 'XmlExpr', 'XmlSerialize',
  'JsonAggConstructor', 'JsonArgument', 'JsonArrayAgg', 'JsonArrayConstructor', 'JsonArrayQueryConstructor',
  'JsonBehavior', 'JsonFuncExpr', 'JsonIsPredicate', 'JsonKeyValue', 'JsonObjectAgg', 'JsonObjectConstructor',
  'JsonOutput', 'JsonParseExpr', 'JsonReturning', 'JsonScalarExpr', 'JsonSerializeExpr', 'JsonTable',
  'JsonTableColumn', 'JsonTablePathSpec', 'JsonValueExpr',
]);

type InlineMap = Readonly<Record<string, Readonly<Record<string, string>>>>;

export const INLINE_FIELDS: InlineMap = {
  ColumnDef: { typeName: 'TypeName', collClause: 'CollateClause', identitySequence: 'RangeVar' },
  CommonTableExpr: { search_clause: 'CTESearchClause', cycle_clause: 'CTECycleClause' },
  DeleteStmt: { relation: 'RangeVar', returningClause: 'ReturningClause', withClause: 'WithClause' },
  FuncCall: { over: 'WindowDef' },
  InsertStmt: {
    relation: 'RangeVar',
    onConflictClause: 'OnConflictClause',
    returningClause: 'ReturningClause',
    withClause: 'WithClause',
  },
  IntoClause: { rel: 'RangeVar' },
  JoinExpr: { alias: 'Alias', join_using_alias: 'Alias' },
  MergeStmt: { relation: 'RangeVar', returningClause: 'ReturningClause', withClause: 'WithClause' },
  OnConflictClause: { infer: 'InferClause' },
  RangeFunction: { alias: 'Alias' },
  RangeSubselect: { alias: 'Alias' },
  RangeTableFunc: { alias: 'Alias' },
  RangeTableFuncCol: { typeName: 'TypeName' },
  RangeVar: { alias: 'Alias' },
  SelectStmt: { intoClause: 'IntoClause', withClause: 'WithClause', larg: 'SelectStmt', rarg: 'SelectStmt' },
  TypeCast: { typeName: 'TypeName' },
  UpdateStmt: { relation: 'RangeVar', returningClause: 'ReturningClause', withClause: 'WithClause' },
  XmlSerialize: { typeName: 'TypeName' },
  JsonAggConstructor: { output: 'JsonOutput', over: 'WindowDef' },
  JsonArgument: { val: 'JsonValueExpr' },
  JsonArrayAgg: { constructor: 'JsonAggConstructor', arg: 'JsonValueExpr' },
  JsonArrayConstructor: { output: 'JsonOutput' },
  JsonArrayQueryConstructor: { output: 'JsonOutput', format: 'JsonFormat' },
  JsonFuncExpr: {
    context_item: 'JsonValueExpr',
    output: 'JsonOutput',
    on_empty: 'JsonBehavior',
    on_error: 'JsonBehavior',
  },
  JsonIsPredicate: { format: 'JsonFormat' },
  JsonKeyValue: { value: 'JsonValueExpr' },
  JsonObjectAgg: { constructor: 'JsonAggConstructor', arg: 'JsonKeyValue' },
  JsonObjectConstructor: { output: 'JsonOutput' },
  JsonOutput: { typeName: 'TypeName', returning: 'JsonReturning' },
  JsonParseExpr: { expr: 'JsonValueExpr', output: 'JsonOutput' },
  JsonReturning: { format: 'JsonFormat' },
  JsonScalarExpr: { output: 'JsonOutput' },
  JsonSerializeExpr: { expr: 'JsonValueExpr', output: 'JsonOutput' },
  JsonTable: {
    context_item: 'JsonValueExpr',
    pathspec: 'JsonTablePathSpec',
    on_error: 'JsonBehavior',
    alias: 'Alias',
  },
  JsonTableColumn: {
    typeName: 'TypeName',
    pathspec: 'JsonTablePathSpec',
    format: 'JsonFormat',
    on_empty: 'JsonBehavior',
    on_error: 'JsonBehavior',
  },
  JsonValueExpr: { format: 'JsonFormat' },
};

export function inlineType(parent: string, field: string): string | undefined {
  return INLINE_FIELDS[parent]?.[field];
}

import { type AstNode, isAstNode, listField, stringField, unwrap } from './parse.js';

/*
 * Where a select's compared values are (comparisons.ts): its output columns,
 * which ORDER BY, GROUP BY and DISTINCT ON may name by position or by name,
 * and its sort and grouping keys.
 */

/** One output column of a select or one VALUES item: the node, or a star (whose columns are unknown here). */
export interface OutputItem {
  readonly node: unknown;
  readonly star: boolean;
  readonly name: string | undefined;
  readonly plainColumn: boolean;
}

/** A SortBy's expression. */
export function sortKey(item: unknown): unknown {
  const u = unwrap(item);
  return u !== undefined && u[0] === 'SortBy' ? u[1]['node'] : item;
}

/** GROUP BY items, with ROLLUP, CUBE and GROUPING SETS opened up. */
export function groupKeys(items: readonly unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const item of items) {
    const u = unwrap(item);
    if (u !== undefined && u[0] === 'GroupingSet') out.push(...groupKeys(listField(u[1], 'content')));
    else if (u !== undefined && u[0] === 'List') out.push(...groupKeys(listField(u[1], 'items')));
    else out.push(item);
  }
  return out;
}

/** A select's output columns: one list per arm of a set operation, per VALUES row, or its target list. */
export function outputsOf(select: AstNode): OutputItem[][] {
  const op = stringField(select, 'op') ?? 'SETOP_NONE';
  if (op !== 'SETOP_NONE') {
    const out: OutputItem[][] = [];
    for (const arm of ['larg', 'rarg'] as const) if (isAstNode(select[arm])) out.push(...outputsOf(select[arm]));
    return out;
  }
  const values = listField(select, 'valuesLists');
  if (values.length > 0) {
    return values.map((row) => {
      const u = unwrap(row);
      const items = u !== undefined && u[0] === 'List' ? listField(u[1], 'items') : [];
      return items.map((node) => ({ node, star: false, name: undefined, plainColumn: false }));
    });
  }
  return [
    listField(select, 'targetList').map((t): OutputItem => {
      const u = unwrap(t);
      const target = u !== undefined && u[0] === 'ResTarget' ? u[1] : undefined;
      const val = target?.['val'];
      const v = unwrap(val);
      const fields = v !== undefined && v[0] === 'ColumnRef' ? listField(v[1], 'fields') : [];
      const star = fields.length > 0 && unwrap(fields[fields.length - 1])?.[0] === 'A_Star';
      const name = target === undefined ? undefined : stringField(target, 'name');
      return { node: val, star, name, plainColumn: fields.length > 0 && name === undefined };
    }),
  ];
}

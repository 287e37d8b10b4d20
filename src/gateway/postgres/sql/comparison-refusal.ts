import type { CatalogFacts } from './catalog-facts.js';
import type { ClassSource, ComparedValues, Facts } from './facts.js';
import { quoteIdent } from './relations.js';

/**
 * The decision on what a statement compares (comparisons.ts records it):
 * refused when a compared value may be of a type whose operator class is
 * user code. Columns only count when the statement reads a relation that
 * has such a column, whole-row values and stars only when the statement
 * has such a value somewhere, parameters only where nothing else fixes the
 * type.
 */

export const PARAMETER = 'a parameter, whose type the client may declare';

/**
 * The first comparison in the statement that may compare values of a type
 * whose operator class runs user code, as the need to refuse, or undefined.
 */
export function comparisonRefusal(facts: Facts, catalog: CatalogFacts): string | undefined {
  if (!catalog.tracksClassTypes) return undefined;
  const presence = facts.classPresence;
  const example = catalog.classes.example;
  const parameter = example === undefined ? undefined : { what: PARAMETER, type: example };
  const columns = facts.classRelation !== undefined;
  const resolve = (m: ComparedValues): ClassSource | undefined => {
    if (m.classed !== undefined) return m.classed;
    if (columns && m.named !== undefined) return m.named;
    if (presence === undefined) return undefined;
    if (m.rowish !== undefined) return { what: m.rowish, type: presence.type };
    const whole = m.bare.find((n) => facts.rangeNames.has(n));
    return whole === undefined ? undefined : { what: `the whole-row value ${quoteIdent(whole)}`, type: catalog.classes.relation(whole) ?? presence.type };
  };
  let renamed: ClassSource | undefined;
  for (const probe of facts.renamed) {
    renamed = resolve(probe) ?? (probe.param ? parameter : undefined);
    if (renamed !== undefined) break;
  }
  if (renamed === undefined && facts.columnAliases && presence !== undefined) renamed = { what: `columns renamed by an alias list`, type: presence.type };
  for (const c of facts.comparisons) {
    for (const m of c.members) {
      let source = resolve(m);
      if (source === undefined && renamed !== undefined && m.columns) source = { what: `a column a subquery renamed, holding ${renamed.what}`, type: renamed.type };
      if (source !== undefined) return describe(c.clause, source);
    }
    const [only] = c.members;
    const params = c.members.length === 1 ? only!.param : c.members.every((m) => m.param || m.untyped) && c.members.some((m) => m.param);
    if (params && parameter !== undefined) return describe(c.clause, parameter);
  }
  return undefined;
}

function describe(clause: string, source: ClassSource): string {
  const sorts = clause.includes('ORDER BY');
  const instead = sorts ? 'sort by a value of a built-in type instead' : 'compare values of a built-in type instead';
  return `${clause} here: it compares values of type ${source.type.display} (${source.what}), and ${source.type.why}; ${instead} (a cast to text is one), or ask for a role with admin`;
}

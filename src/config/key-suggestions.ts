import type { z } from 'zod';

/**
 * For a config error: which keys the schema allows at a path, and the one
 * closest to what was typed, so `reveiw_timeout` says "did you mean
 * review_timeout?".
 */

interface Def {
  readonly type?: string;
  readonly innerType?: z.ZodType;
  readonly shape?: Record<string, z.ZodType>;
  readonly element?: z.ZodType;
  readonly valueType?: z.ZodType;
  readonly options?: readonly z.ZodType[];
  readonly in?: z.ZodType;
}

const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The object schemas a value at `path` may be (a union gives several). */
function objectsAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType[] {
  const def = defOf(schema);
  if (def.innerType) return objectsAt(def.innerType, path);
  if (def.type === 'pipe' && def.in) return objectsAt(def.in, path);
  if (def.options) return def.options.flatMap((o) => objectsAt(o, path));
  if (path.length === 0) return def.shape ? [schema] : [];
  const [head, ...rest] = path;
  if (def.shape) return typeof head === 'string' && def.shape[head] ? objectsAt(def.shape[head], rest) : [];
  if (def.element) return objectsAt(def.element, rest);
  if (def.valueType) return objectsAt(def.valueType, rest);
  return [];
}

export function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  return [...new Set(objectsAt(schema, path).flatMap((o) => Object.keys(defOf(o).shape ?? {})))];
}

/** Levenshtein distance, with a swap of neighbours counted as one edit (typing errors). */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The known key closest to `typed`, if it is close enough to be a typo (at most a third of its letters off). */
export function closestKey(typed: string, known: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const key of known) {
    const distance = editDistance(typed.toLowerCase(), key.toLowerCase());
    if (!best || distance < best.distance) best = { key, distance };
  }
  return best && best.distance <= Math.max(1, Math.floor(Math.max(typed.length, best.key.length) / 3)) ? best.key : undefined;
}

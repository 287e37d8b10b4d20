/**
 * A canonical JSON encoding: object keys sorted, no whitespace, undefined
 * dropped. Two equal values always encode to the same bytes, which is what a
 * hash chain needs.
 *
 * Written as plain loops: every audited statement is encoded twice (its
 * details, then the row that is hashed), so this sits on the audit writer's
 * hot path.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    return JSON.stringify(value === undefined ? null : value);
  }
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += canonicalJson(value[i]);
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  // Array#sort without a comparator orders by UTF-16 code units, as `<` does.
  if (isSorted(keys)) {
    // JSON.stringify walks keys in this same order and drops undefined members: for a flat record it is the canonical form.
    if (isFlat(record, keys)) return JSON.stringify(record);
  } else {
    keys.sort();
  }
  let out = '{';
  let first = true;
  for (const key of keys) {
    const v = record[key];
    if (v === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += `${JSON.stringify(key)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}

function isSorted(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) return false;
  return true;
}

function isFlat(record: Record<string, unknown>, keys: readonly string[]): boolean {
  // JSON.stringify would call an inherited toJSON (Buffer, boxed primitives, class instances); the loop above does not.
  const proto = Object.getPrototypeOf(record) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key of keys) {
    const t = typeof record[key];
    if (t !== 'string' && t !== 'number' && t !== 'boolean' && t !== 'undefined' && record[key] !== null) return false;
  }
  return true;
}

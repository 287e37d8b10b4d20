/**
 * A bounded least-recently-used map. A Map iterates in insertion order, so
 * re-inserting on every hit keeps the oldest entry first, ready to evict.
 *
 * Bounded by entries and, when `maxBytes` is given, by the bytes its entries
 * hold (as `sizeOf` estimates them): a cap on entries alone let 512 texts of
 * 9 MB each fill the heap. An entry larger than the whole budget is not kept.
 */
export interface LruBytes<K, V> {
  readonly maxBytes: number;
  readonly sizeOf: (key: K, value: V) => number;
}

export class Lru<K, V> {
  private readonly map = new Map<K, { value: V; size: number }>();
  private held = 0;
  /** The most recently used key: a hit on it needs no reordering (a delete and a set per hit churn the Map's table). */
  private newest: K | undefined;
  private hasNewest = false;

  constructor(
    private readonly capacity: number,
    private readonly bytes?: LruBytes<K, V>,
  ) {
    if (!(capacity >= 1)) throw new RangeError('Lru capacity must be at least 1');
  }

  get size(): number {
    return this.map.size;
  }

  /** Estimated bytes held by the entries (0 when the map is not bounded by bytes). */
  get heldBytes(): number {
    return this.held;
  }

  get(key: K): V | undefined {
    const entry = this.map.get(key);
    if (entry === undefined) return undefined;
    if (this.hasNewest && this.newest === key) return entry.value;
    this.map.delete(key);
    this.map.set(key, entry);
    this.newest = key;
    this.hasNewest = true;
    return entry.value;
  }

  set(key: K, value: V): void {
    const size = this.bytes ? this.bytes.sizeOf(key, value) : 0;
    this.delete(key);
    if (this.bytes && size > this.bytes.maxBytes) return;
    while (this.map.size >= this.capacity || (this.bytes && this.held + size > this.bytes.maxBytes)) {
      const oldest = this.map.keys().next();
      if (oldest.done === true) break;
      this.delete(oldest.value);
    }
    this.map.set(key, { value, size });
    this.held += size;
    this.newest = key;
    this.hasNewest = true;
  }

  delete(key: K): void {
    const entry = this.map.get(key);
    if (entry === undefined) return;
    this.map.delete(key);
    this.held -= entry.size;
    if (this.hasNewest && this.newest === key) this.forgetNewest();
  }

  clear(): void {
    this.map.clear();
    this.held = 0;
    this.forgetNewest();
  }

  private forgetNewest(): void {
    this.newest = undefined;
    this.hasNewest = false;
  }
}

/**
 * Bytes a string holds, counted as V8's two-byte representation so the
 * budget is never underestimated, plus a fixed allowance for the entry.
 */
export function stringBytes(s: string): number {
  return 2 * s.length + 64;
}

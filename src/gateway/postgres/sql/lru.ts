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
    this.map.delete(key);
    this.map.set(key, entry);
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
  }

  delete(key: K): void {
    const entry = this.map.get(key);
    if (entry === undefined) return;
    this.map.delete(key);
    this.held -= entry.size;
  }

  clear(): void {
    this.map.clear();
    this.held = 0;
  }
}

/**
 * Bytes a string holds, counted as V8's two-byte representation so the
 * budget is never underestimated, plus a fixed allowance for the entry.
 */
export function stringBytes(s: string): number {
  return 2 * s.length + 64;
}

import type { CatalogFacts } from './catalog-facts.js';

/**
 * Catalog facts per upstream login, reused for a short while. Reading them
 * costs a query of 30–90 ms at session start; a pool or a benchmark opening
 * dozens of sessions at once would pay it dozens of times for the same
 * answer. Facts are taken at session start anyway (objects created later are
 * seen on reconnect), so reusing them for `ttlMs` widens that window a
 * little and no more.
 */
export class CatalogCache {
  private readonly entries = new Map<string, { facts: CatalogFacts; until: number }>();

  constructor(
    private readonly ttlMs = 30_000,
    private readonly maxEntries = 256,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): CatalogFacts | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.until <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.facts;
  }

  clear(): void {
    this.entries.clear();
  }

  set(key: string, facts: CatalogFacts): void {
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { facts, until: this.now() + this.ttlMs });
  }
}

/** One login on one database: what it can see of the catalog is what the facts describe. */
export function catalogKey(target: { readonly host: string; readonly port: number; readonly database: string; readonly user: string }): string {
  return JSON.stringify([target.host, target.port, target.database, target.user]);
}

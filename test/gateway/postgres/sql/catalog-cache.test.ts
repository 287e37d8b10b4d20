import { describe, expect, it } from 'vitest';
import { CatalogCache, catalogKey } from '../../../../src/gateway/postgres/sql/catalog-cache.js';
import { CatalogFacts } from '../../../../src/gateway/postgres/sql/catalog-facts.js';

describe('catalog cache', () => {
  const target = { host: '127.0.0.1', port: 5432, database: 'shop', user: 'reader' };

  it('reuses facts for one login on one database until they are ttl old, then reads again', () => {
    let now = 1_000;
    const cache = new CatalogCache(30_000, 10, () => now);
    cache.set(catalogKey(target), CatalogFacts.NONE);
    now += 29_999;
    expect(cache.get(catalogKey(target))).toBe(CatalogFacts.NONE);
    now += 1;
    expect(cache.get(catalogKey(target))).toBeUndefined();
  });

  it('never shares facts between logins or databases', () => {
    const cache = new CatalogCache();
    cache.set(catalogKey(target), CatalogFacts.NONE);
    expect(cache.get(catalogKey({ ...target, user: 'writer' }))).toBeUndefined();
    expect(cache.get(catalogKey({ ...target, database: 'billing' }))).toBeUndefined();
    expect(cache.get(catalogKey({ ...target, port: 5433 }))).toBeUndefined();
  });

  it('holds a bounded number of logins', () => {
    const cache = new CatalogCache(30_000, 3);
    for (const user of ['a', 'b', 'c', 'd']) cache.set(catalogKey({ ...target, user }), CatalogFacts.NONE);
    expect(cache.get(catalogKey({ ...target, user: 'a' }))).toBeUndefined();
    expect(cache.get(catalogKey({ ...target, user: 'd' }))).toBe(CatalogFacts.NONE);
  });
});

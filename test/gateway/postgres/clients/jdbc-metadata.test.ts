import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../harness.js';
import { DENIED, type ScopedGateway, startScopedGateway } from './scoped-gateway.js';

/**
 * The PostgreSQL JDBC driver's DatabaseMetaData, as DBeaver, DataGrip and
 * IntelliJ call it on opening a database, through the gateway under a read
 * role scoped to `public.*` that denies `public.payment_tokens`. The driver
 * is Debian's libpostgresql-jdbc-java; the probe runs as a single-file Java
 * source (JDK 11+).
 */

const JAR = '/usr/share/java/postgresql.jar';
const PROBE = fileURLToPath(new URL('./MetadataProbe.java', import.meta.url));

let g: ScopedGateway;

beforeAll(async () => {
  g = await startScopedGateway();
});

afterAll(async () => {
  await g?.close();
});

describe('JDBC DatabaseMetaData under a table-scoped read role', () => {
  it('tables, columns, primary keys, foreign keys and indexes all answer, with nothing of the denied table', async () => {
    const url = `jdbc:postgresql://127.0.0.1:${g.port}/${g.resource}?sslmode=disable`;
    // C1-only JIT and the serial collector halve the JVM's start on a busy machine.
    const jvm = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-cp', JAR];
    const r = await run('java', [...jvm, PROBE, url, g.reader.user, g.reader.secret, 'orders', 'order_items'], {});
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.filter((l) => l.startsWith('ERROR'))).toEqual([]);
    const rows = (call: string) => lines.filter((l) => l.startsWith(`ROW ${call}:`));
    // getPrimaryKeys and getIndexInfo call information_schema._pg_expandarray().
    expect(rows('getPrimaryKeys orders')).toEqual([expect.stringMatching(/column_name=id /i)]);
    expect(rows('getPrimaryKeys order_items').map((l) => /COLUMN_NAME=(\w+)/i.exec(l)?.[1])).toEqual(['order_id', 'sku']);
    expect(rows('getIndexInfo orders').map((l) => /INDEX_NAME=(\w+)/i.exec(l)?.[1]).sort()).toEqual(['orders_pkey', 'orders_status_idx']);
    expect(rows('getImportedKeys order_items')).toEqual([expect.stringMatching(/PKTABLE_NAME=orders .*FKCOLUMN_NAME=order_id/i)]);
    expect(rows('getColumns orders').map((l) => /COLUMN_NAME=(\w+)/i.exec(l)?.[1])).toEqual(['id', 'customer_id', 'status', 'total']);
    expect(rows('getTables').length).toBeGreaterThanOrEqual(4);
    expect(r.stdout).not.toContain(DENIED.value);
    expect(r.stdout).not.toContain(DENIED.column);
    expect(r.stdout).not.toContain(DENIED.index);
  });
});

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DENIED, type ScopedGateway, startScopedGateway } from '../gateway/postgres/clients/scoped-gateway.js';
import { RawClient, errorOf } from '../gateway/postgres/raw-client.js';
import * as msg from './wire.js';

/**
 * SQL-level PREPARE/EXECUTE under a table-scoped read role. PREPARE is
 * checked as the statement it prepares; EXECUTE runs only a name this
 * session prepared through the gateway with an allowed statement, since the
 * upstream may hold the same name with text the gateway never checked.
 */

let g: ScopedGateway;
let c: pg.Client;

beforeAll(async () => {
  g = await startScopedGateway();
  c = new pg.Client({ host: '127.0.0.1', port: g.port, user: g.reader.user, password: g.reader.secret, database: g.resource });
  await c.connect();
}, 60_000);

afterAll(async () => {
  await c?.end().catch(() => undefined);
  await g?.close();
});

const refusal = async (sql: string) => {
  const err = (await c.query(sql).then(
    () => null,
    (e: unknown) => e,
  )) as { message: string; code: string } | null;
  expect(err, sql).not.toBeNull();
  expect(err!.code, sql).toBe('42501');
  return err!.message;
};

describe('SQL-level prepared statements through the gateway', () => {
  it('prepares and executes an allowed statement, with parameters, and deallocates it', async () => {
    await c.query('PREPARE by_status(text) AS SELECT id FROM orders WHERE status = $1 ORDER BY id');
    expect((await c.query("EXECUTE by_status('paid')")).rows).toEqual([{ id: 1 }]);
    await c.query('DEALLOCATE by_status');
    expect(await refusal("EXECUTE by_status('paid')")).toContain('"by_status" was not prepared through the gateway');
  });

  it('refuses to prepare what the role may not run, and then to execute the name', async () => {
    expect(await refusal(`PREPARE leak AS SELECT * FROM ${DENIED.table}`)).toContain(`public.${DENIED.table}`);
    expect(await refusal('PREPARE wipe AS DELETE FROM orders')).toMatch(/^airlock: /);
    expect(await refusal('EXECUTE leak')).toContain('"leak" was not prepared through the gateway');
    expect(await refusal('EXPLAIN ANALYZE EXECUTE wipe')).toContain('"wipe" was not prepared through the gateway');
  });

  it('refuses EXECUTE of a name prepared upstream by a path the gateway does not follow', async () => {
    // An allowed PREPARE sent through the extended protocol: the upstream holds the name, the gateway does not trust it.
    const raw = await RawClient.signIn(g.port, g.reader.user, g.resource, g.reader.secret);
    try {
      raw.socket.write(Buffer.concat([msg.parse('', 'PREPARE sneaky AS SELECT 1'), msg.bind('', ''), msg.execute(''), msg.sync()]));
      expect(errorOf(await raw.untilReady())).toBeUndefined();
      raw.socket.write(msg.query('EXECUTE sneaky'));
      expect(errorOf(await raw.untilReady())?.message).toContain('"sneaky" was not prepared through the gateway');
      // Nor may EXECUTE itself go through Parse.
      raw.socket.write(Buffer.concat([msg.parse('', 'EXECUTE sneaky'), msg.sync()]));
      expect(errorOf(await raw.untilReady())?.message).toContain('allowed only in a simple query');
    } finally {
      raw.socket.destroy();
    }
  });

  it('forgets every name on a failed multi-statement text, and checks the arguments of EXECUTE', async () => {
    await c.query('PREPARE one(int) AS SELECT $1::int AS n');
    expect((await c.query('EXECUTE one(7)')).rows).toEqual([{ n: 7 }]);
    expect(await refusal("EXECUTE one(length(pg_read_file('/etc/hostname')))")).toContain('pg_read_file');
    await c.query('PREPARE two AS SELECT 2 AS n; SELECT 1/0').catch(() => undefined);
    expect(await refusal('EXECUTE two')).toContain('"two" was not prepared through the gateway');
  });
});

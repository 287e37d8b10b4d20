import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as msg from '../../src/gateway/postgres/protocol/messages.js';
import { type ScopedGateway, startScopedGateway } from '../gateway/postgres/clients/scoped-gateway.js';
import { RawClient, errorOf } from '../gateway/postgres/raw-client.js';

/**
 * A read role may clear its search_path (`set_config('search_path', '',
 * …)`, as pg_dump does), and the gateway then reads a path with only
 * pg_catalog in it. A ROLLBACK brings the old path back, and a statement
 * pipelined behind the ROLLBACK is checked before the gateway can read the
 * path again. The attack: user code on the old path, reached by an
 * unqualified name the cleared path would not reach.
 */

let g: ScopedGateway;

beforeAll(async () => {
  g = await startScopedGateway({
    extraSql: (database) => `
      create schema ops;
      create function ops.lower(int) returns text language sql as $$ select 'user code ran' $$;
      alter database ${database} set search_path = ops, public;`,
  });
});

afterAll(async () => {
  await g?.close();
});

async function query(c: RawClient, sql: string) {
  c.socket.write(msg.query(sql));
  return c.untilReady();
}

describe('a search_path restored by ROLLBACK', () => {
  it('does not let a pipelined statement run user code the path the gateway read could not reach', async () => {
    const c = await RawClient.signIn(g.port, g.reader.user, g.resource, g.reader.secret);
    try {
      // On the session's own path the call is refused outright.
      expect(errorOf(await query(c, 'select lower(1)'))?.message).toContain('ops.lower() is user code');
      expect(errorOf(await query(c, 'begin'))).toBeUndefined();
      expect(errorOf(await query(c, "select set_config('search_path', '', true)"))).toBeUndefined();
      // Any SET makes the gateway read the path again: it now holds only pg_catalog.
      expect(errorOf(await query(c, "set application_name = 'probe'"))).toBeUndefined();
      c.socket.write(Buffer.concat([msg.query('rollback'), msg.query('select lower(1)')]));
      const rollback = await c.untilReady();
      const pipelined = await c.untilReady();
      expect(errorOf(rollback)).toBeUndefined();
      expect(errorOf(pipelined)?.message).toMatch(/does not allow .*lower/);
      expect(Buffer.concat(pipelined.map((f) => f.body)).toString()).not.toContain('user code ran');
    } finally {
      c.socket.destroy();
    }
  });
});

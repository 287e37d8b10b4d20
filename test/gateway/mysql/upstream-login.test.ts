import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginUpstream } from '../../../src/gateway/mysql/upstream-login.js';
import { upstreamQuery, UpstreamQueryError } from '../../../src/gateway/mysql/upstream-query.js';
import { Capability } from '../../../src/gateway/mysql/protocol/codes.js';
import { MARIADB, scratchDatabase, type Scratch } from './mariadb-fixture.js';

const opts = { clientCapabilities: Capability.DeprecateEof | Capability.MultiResults | Capability.LocalFiles | Capability.MultiStatements, maxPayload: 64 << 20 };

describe('the gateway logs in to MariaDB 10.11 with the role credential', () => {
  let db: Scratch;
  beforeAll(async () => {
    db = await scratchDatabase();
  });
  afterAll(async () => db?.drop());

  it('with mysql_native_password, records the thread id, and never announces LOCAL FILES or MULTI_STATEMENTS', async () => {
    const up = await loginUpstream({ ...MARIADB, database: db.database, user: db.user, password: db.password }, opts);
    try {
      expect(up.capabilities & Capability.LocalFiles).toBe(0);
      expect(up.capabilities & Capability.MultiStatements).toBe(0);
      expect(up.capabilities & Capability.Compress).toBe(0);
      const r = await upstreamQuery(up.channel, up.capabilities, 'SELECT CONNECTION_ID(), DATABASE()');
      expect(r.rows).toEqual([[String(up.threadId), db.database]]);
      // The server itself refuses a second statement: multi-statements were not negotiated.
      await expect(upstreamQuery(up.channel, up.capabilities, 'SELECT 1; SELECT 2')).rejects.toMatchObject({ upstreamCode: 1064 });
      await expect(upstreamQuery(up.channel, up.capabilities, `LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE orders`)).rejects.toBeInstanceOf(UpstreamQueryError);
      const after = await upstreamQuery(up.channel, up.capabilities, 'SELECT COUNT(*) FROM orders');
      expect(after.rows).toEqual([['2']]);
    } finally {
      up.socket.destroy();
    }
  });

  it('a wrong password is refused with the upstream error kept for the audit, not the password', async () => {
    const err = await loginUpstream({ ...MARIADB, database: db.database, user: db.user, password: 'wrong-password' }, opts).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'upstream_auth_refused', errno: 1045 });
    expect(String((err as Error).message)).not.toContain('wrong-password');
  });

  it('with client_ed25519 when the account uses it', async () => {
    const plugins = await db.root.query(`SELECT PLUGIN_STATUS FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'ed25519'`);
    if ((plugins[0] as unknown[]).length === 0) await db.root.query(`INSTALL SONAME 'auth_ed25519'`);
    const user = `${db.user}_ed`;
    await db.root.query(`CREATE USER '${user}'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('${db.password}')`);
    await db.root.query(`GRANT SELECT ON \`${db.database}\`.* TO '${user}'@'%'`);
    try {
      const up = await loginUpstream({ ...MARIADB, database: db.database, user, password: db.password }, opts);
      const r = await upstreamQuery(up.channel, up.capabilities, 'SELECT CURRENT_USER()');
      expect(r.rows[0]![0]).toBe(`${user}@%`);
      up.socket.destroy();
      await expect(loginUpstream({ ...MARIADB, database: db.database, user, password: 'nope' }, opts)).rejects.toMatchObject({ code: 'upstream_auth_refused' });
    } finally {
      await db.root.query(`DROP USER '${user}'@'%'`);
    }
  });
});

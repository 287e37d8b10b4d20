import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlGateway, type MysqlGateway } from '../../../src/gateway/mysql/listener.js';
import { FakePort } from './fake-port.js';
import { scratchDatabase, type Scratch } from './mariadb-fixture.js';

const RESOURCE = 'orders-mysql';

describe('a live MySQL session is cut when its grant ends', () => {
  let db: Scratch;
  let port: FakePort;
  let gw: MysqlGateway;

  beforeAll(async () => {
    db = await scratchDatabase();
    port = new FakePort();
    gw = await createMysqlGateway({ port, listen: { host: '127.0.0.1', port: 0 } });
  });
  afterAll(async () => {
    await gw?.close();
    await db?.drop();
  });

  async function running(marker: string): Promise<number> {
    const [rows] = await db.root.query(`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE ?`, [`%${marker}%`]);
    return Number((rows as { n: number }[])[0]!.n);
  }

  it('mid-statement: the client gets ERROR 1927 saying why, and the upstream query is killed, not left running', async () => {
    const g = port.issue({ user: 'alice', resource: RESOURCE, database: db.database, login: db.user, password: db.password, allow: ['read'] });
    const c = await mysql.createConnection({ ...gw.address(), user: g.user, password: g.secret, database: RESOURCE });
    c.on('error', () => undefined);
    const marker = `cut_${Date.now()}`;
    const sleeping = c.query(`SELECT SLEEP(60) AS ${marker}`).then(
      () => null,
      (err: { errno?: number; message: string }) => err,
    );
    // The statement is running upstream (the process list shows it, minus the query looking for it).
    await port.until(() => port.intents.some((i) => i.text?.includes(marker)));
    const deadline = Date.now() + 10_000;
    while ((await running(marker)) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    port.end(g.grantId, 'revoked', `airlock: access to ${RESOURCE} was revoked by root: incident over`);
    // SLEEP(60) outlasts the test's 30 s timeout: only the cut can answer it in time (how fast is the bench's job).
    const err = await sleeping;
    expect(err).toMatchObject({ errno: 1927, message: `airlock: access to ${RESOURCE} was revoked by root: incident over` });
    const killedBy = Date.now() + 5_000;
    while ((await running(marker)) > 1 && Date.now() < killedBy) await new Promise((r) => setTimeout(r, 20));
    expect(await running(marker)).toBe(1);
    await port.until(() => port.ended.some((e) => e.reason === 'revoked'));
    // The statement cut mid-flight has an outcome on record, closing its intent.
    const session = port.started.at(-1)!.sessionId;
    const record = port.statements.find((s) => s.sessionId === session && s.text?.includes(marker));
    expect(record?.intent).toEqual(expect.any(String));
    expect(record?.outcome).toMatch(/^(error|unknown)$/);
    await c.end().catch(() => undefined);
  });
});

import net from 'node:net';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlGateway, type MysqlGateway } from '../../../src/gateway/mysql/listener.js';
import { FakePort } from './fake-port.js';
import { scratchDatabase, type Scratch } from './mariadb-fixture.js';

/** Sockets that open and never sign in cannot crowd out the sessions that do (the kernel's listener, MySQL's words). */
describe('MySQL gateway: connections still signing in are capped', () => {
  let db: Scratch;
  let port: FakePort;
  let gw: MysqlGateway;

  beforeAll(async () => {
    db = await scratchDatabase();
    port = new FakePort();
    gw = await createMysqlGateway({ port, listen: { host: '127.0.0.1', port: 0 }, signingIn: { total: 50, perAddress: 2 } });
  });
  afterAll(async () => {
    await gw?.close();
    await db?.drop();
  });

  it('answers one connection too many with ERROR 1040, and a signed-in session keeps working', async () => {
    const g = port.issue({ user: 'capper', resource: 'orders-mysql', database: db.database, login: db.user, password: db.password, allow: ['read'] });
    const live = await mysql.createConnection({ ...gw.address(), user: g.user, password: g.secret, database: 'orders-mysql' });
    const idle: net.Socket[] = [];
    for (let i = 0; i < 2; i++) {
      const s = net.connect(gw.address());
      s.on('error', () => undefined);
      await new Promise((r) => s.once('data', r));
      idle.push(s);
    }
    const refused = await mysql.createConnection({ ...gw.address(), user: g.user, password: g.secret, database: 'orders-mysql' }).then(
      () => null,
      (err: Error & { errno?: number }) => err,
    );
    expect(refused?.errno).toBe(1040);
    expect(refused?.message).toContain('too many connections are waiting to sign in from this address');
    const [rows] = await live.query('SELECT 1 AS one');
    expect(rows).toEqual([{ one: 1 }]);
    for (const s of idle) s.destroy();
    await live.end();
  });
});

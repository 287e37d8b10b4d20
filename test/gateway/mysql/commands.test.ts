import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlGateway, type MysqlGateway } from '../../../src/gateway/mysql/listener.js';
import { Capability, Command, MAX_PACKET_PAYLOAD } from '../../../src/gateway/mysql/protocol/codes.js';
import { decodeErr } from '../../../src/gateway/mysql/protocol/messages.js';
import { loginUpstream, type UpstreamConnection } from '../../../src/gateway/mysql/upstream-login.js';
import { upstreamQuery } from '../../../src/gateway/mysql/upstream-query.js';
import { FakePort } from './fake-port.js';
import { scratchDatabase, type Scratch } from './mariadb-fixture.js';

const RESOURCE = 'orders-mysql';

/**
 * Command by command through the gateway, with the gateway's own protocol
 * client code as the client: every command a MySQL client can send gets an
 * answer in the protocol, never a dropped socket.
 */
describe('MySQL gateway commands', () => {
  let db: Scratch;
  let port: FakePort;
  let gw: MysqlGateway;
  let maxAllowedPacket = 0;

  beforeAll(async () => {
    db = await scratchDatabase();
    await db.root.query(`CREATE TABLE \`${db.database}\`.blobs (id INT PRIMARY KEY, body LONGBLOB)`);
    const [[was]] = (await db.root.query('SELECT @@global.max_allowed_packet AS v')) as unknown as [[{ v: number }]];
    maxAllowedPacket = was.v;
    if (maxAllowedPacket < 64 << 20) await db.root.query(`SET GLOBAL max_allowed_packet = ${64 << 20}`);
    port = new FakePort();
    gw = await createMysqlGateway({ port, listen: { host: '127.0.0.1', port: 0 } });
  });
  afterAll(async () => {
    await gw?.close();
    if (maxAllowedPacket && maxAllowedPacket < 64 << 20) await db.root.query(`SET GLOBAL max_allowed_packet = ${maxAllowedPacket}`);
    await db?.drop();
  });

  async function connect(allow: ('read' | 'write')[], denyTables?: string[]): Promise<UpstreamConnection> {
    const g = port.issue({ user: `c${Math.random().toString(36).slice(2, 8)}`, resource: RESOURCE, database: db.database, login: db.user, password: db.password, allow, denyTables });
    return loginUpstream({ ...gw.address(), user: g.user, password: g.secret, database: RESOURCE }, { clientCapabilities: Capability.DeprecateEof | Capability.MultiResults, maxPayload: 64 << 20 });
  }

  /** Sends one command and reads its single-packet answer. */
  async function single(c: UpstreamConnection, payload: Buffer): Promise<Buffer> {
    c.channel.resetSeq();
    c.channel.send(payload);
    return (await c.channel.read()).payload;
  }

  it('COM_CHANGE_USER, COM_BINLOG_DUMP and unknown commands get ERROR 1047, and the session goes on', async () => {
    const c = await connect(['read']);
    try {
      for (const cmd of [Command.ChangeUser, Command.BinlogDump, Command.ProcessKill, Command.Shutdown, 0x99]) {
        const answer = await single(c, Buffer.from([cmd, 0, 0, 0, 0]));
        expect(decodeErr(answer), `command 0x${cmd.toString(16)}`).toMatchObject({ code: 1047, sqlstate: '08S01', message: expect.stringMatching(/^airlock: .* is not allowed through the gateway$/) });
      }
      expect(decodeErr(await single(c, Buffer.from([Command.ChangeUser, 0x72, 0x6f, 0x6f, 0x74, 0]))).message).toContain('COM_CHANGE_USER');
      expect((await upstreamQuery(c.channel, c.capabilities, 'SELECT 1')).rows).toEqual([['1']]);
    } finally {
      c.socket.destroy();
    }
  });

  it('COM_PING answers OK; COM_SET_OPTION refuses multi-statements; COM_INIT_DB only to the pinned database', async () => {
    const c = await connect(['read']);
    try {
      expect((await single(c, Buffer.from([Command.Ping])))[0]).toBe(0x00);
      expect(decodeErr(await single(c, Buffer.from([Command.SetOption, 0, 0])))).toMatchObject({ code: 1235, message: expect.stringContaining('multi-statements') });
      expect((await single(c, Buffer.from([Command.SetOption, 1, 0])))[0]).not.toBe(0xff);
      expect(decodeErr(await single(c, Buffer.concat([Buffer.from([Command.InitDb]), Buffer.from('mysql')])))).toMatchObject({ code: 1044, sqlstate: '42000' });
      expect((await single(c, Buffer.concat([Buffer.from([Command.InitDb]), Buffer.from(db.database)])))[0]).toBe(0x00);
      expect((await upstreamQuery(c.channel, c.capabilities, 'SELECT DATABASE()')).rows).toEqual([[db.database]]);
    } finally {
      c.socket.destroy();
    }
  });

  it('COM_RESET_CONNECTION pins the session again: read-only and the gateway sql_mode survive a reset', async () => {
    const c = await connect(['read']);
    try {
      expect((await single(c, Buffer.from([Command.ResetConnection])))[0]).toBe(0x00);
      expect((await upstreamQuery(c.channel, c.capabilities, 'SELECT @@session.tx_read_only, @@session.sql_mode')).rows).toEqual([
        ['1', 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'],
      ]);
    } finally {
      c.socket.destroy();
    }
  });

  it('a client asking for a multi-byte character set where a quote byte can end a character (gbk) gets utf8mb4 upstream', async () => {
    const g = port.issue({ user: `k${Math.random().toString(36).slice(2, 8)}`, resource: RESOURCE, database: db.database, login: db.user, password: db.password, allow: ['read'] });
    const GBK_CHINESE_CI = 28;
    const c = await loginUpstream({ ...gw.address(), user: g.user, password: g.secret, database: RESOURCE }, { clientCapabilities: Capability.DeprecateEof, collation: GBK_CHINESE_CI, maxPayload: 1 << 20 });
    try {
      expect((await upstreamQuery(c.channel, c.capabilities, 'SELECT @@character_set_client, @@character_set_connection')).rows).toEqual([['utf8mb4', 'utf8mb4']]);
    } finally {
      c.socket.destroy();
    }
  });

  it('prepared statements with a cursor (COM_STMT_FETCH), long data (COM_STMT_SEND_LONG_DATA), reset and close', async () => {
    for (const capabilities of [Capability.DeprecateEof, 0]) {
      const g = port.issue({ user: `p${Math.random().toString(36).slice(2, 8)}`, resource: RESOURCE, database: db.database, login: db.user, password: db.password, allow: ['read'] });
      const c = await loginUpstream({ ...gw.address(), user: g.user, password: g.secret, database: RESOURCE }, { clientCapabilities: capabilities, maxPayload: 1 << 20 });
      const deprecateEof = (c.capabilities & Capability.DeprecateEof) !== 0;
      const send = (payload: Buffer) => {
        c.channel.resetSeq();
        c.channel.send(payload);
      };
      /** Reads packets until an end packet (0xFE short) or an error; returns the rows between. */
      const untilEnd = async (): Promise<Buffer[]> => {
        const rows: Buffer[] = [];
        for (;;) {
          const p = (await c.channel.read()).payload;
          if (p[0] === 0xff) throw new Error(decodeErr(p).message);
          if (p[0] === 0xfe && p.length < 0xffffff) return rows;
          rows.push(p);
        }
      };
      try {
        send(Buffer.concat([Buffer.from([Command.StmtPrepare]), Buffer.from('SELECT id FROM orders WHERE item <> ? ORDER BY id')]));
        const ok = (await c.channel.read()).payload;
        expect(ok[0]).toBe(0x00);
        const statementId = ok.readUInt32LE(1);
        // One parameter definition and one column definition, each followed by an EOF unless deprecated.
        for (let i = 0; i < (deprecateEof ? 2 : 4); i++) await c.channel.read();
        const longData = Buffer.alloc(7);
        longData[0] = Command.StmtSendLongData;
        longData.writeUInt32LE(statementId, 1);
        longData.writeUInt16LE(0, 5);
        send(Buffer.concat([longData, Buffer.from('nothing-like-this')]));
        // COM_STMT_EXECUTE with CURSOR_TYPE_READ_ONLY, one VARCHAR parameter bound, its value sent as long data.
        const execute = Buffer.from([Command.StmtExecute, 0, 0, 0, 0, 0x01, 1, 0, 0, 0, 0x00, 0x01, 0x0f, 0x00]);
        execute.writeUInt32LE(statementId, 1);
        send(execute);
        const head = (await c.channel.read()).payload;
        expect(head[0]).toBe(1);
        await c.channel.read();
        const opened = (await c.channel.read()).payload;
        expect(opened[0]).toBe(0xfe);
        const fetch = Buffer.from([Command.StmtFetch, 0, 0, 0, 0, 1, 0, 0, 0]);
        fetch.writeUInt32LE(statementId, 1);
        send(fetch);
        expect(await untilEnd()).toHaveLength(1);
        send(fetch);
        expect(await untilEnd()).toHaveLength(1);
        const reset = Buffer.from([Command.StmtReset, 0, 0, 0, 0]);
        reset.writeUInt32LE(statementId, 1);
        send(reset);
        expect((await c.channel.read()).payload[0]).toBe(0x00);
        const close = Buffer.from([Command.StmtClose, 0, 0, 0, 0]);
        close.writeUInt32LE(statementId, 1);
        send(close);
        send(execute);
        expect(decodeErr((await c.channel.read()).payload)).toMatchObject({ code: 1243 });
        expect((await upstreamQuery(c.channel, c.capabilities, 'SELECT 9')).rows).toEqual([['9']]);
      } finally {
        c.socket.destroy();
      }
    }
    const executed = port.statements.filter((r) => r.text === 'SELECT id FROM orders WHERE item <> ? ORDER BY id');
    expect(executed.at(-1)).toMatchObject({ outcome: 'ok', extra: { params: ['<sent as long data>'] } });
  });

  it('COM_FIELD_LIST follows the table rules', async () => {
    const c = await connect(['read'], ['secrets']);
    try {
      const refused = await single(c, Buffer.concat([Buffer.from([Command.FieldList]), Buffer.from('secrets\0')]));
      expect(decodeErr(refused)).toMatchObject({ code: 1142, message: expect.stringContaining('secrets') });
      c.channel.resetSeq();
      c.channel.send(Buffer.concat([Buffer.from([Command.FieldList]), Buffer.from('orders\0')]));
      const names: string[] = [];
      for (;;) {
        const p = (await c.channel.read()).payload;
        if (p[0] === 0xfe && p.length < 0xffffff) break;
        names.push(p.toString('latin1'));
      }
      expect(names).toHaveLength(3);
    } finally {
      c.socket.destroy();
    }
  });

  it('a statement of more than 16 MiB crosses the gateway split across packets, both ways', async () => {
    const c = await connect(['read', 'write']);
    try {
      const body = 'x'.repeat(MAX_PACKET_PAYLOAD + 1000);
      const r = await upstreamQuery(c.channel, c.capabilities, `INSERT INTO blobs VALUES (1, '${body}')`);
      expect(r.affectedRows).toBe(1);
      const back = await upstreamQuery(c.channel, c.capabilities, 'SELECT body FROM blobs WHERE id = 1');
      expect(back.rows[0]![0]!.length).toBe(body.length);
      expect((await upstreamQuery(c.channel, c.capabilities, 'SELECT LENGTH(body) FROM blobs')).rows).toEqual([[String(body.length)]]);
    } finally {
      c.socket.destroy();
    }
  }, 60_000);

  it('commands a client sends ahead of their answers are answered in order, the backlog bounded', async () => {
    const c = await connect(['read']);
    try {
      const pings = Buffer.concat(Array.from({ length: 300 }, () => Buffer.from([0x01, 0x00, 0x00, 0x00, Command.Ping])));
      c.socket.write(pings);
      for (let i = 0; i < 300; i++) {
        c.channel.resetSeq();
        c.channel.seq = 1;
        expect((await c.channel.read()).payload[0]).toBe(0x00);
      }
      expect((await upstreamQuery(c.channel, c.capabilities, 'SELECT 7')).rows).toEqual([['7']]);
    } finally {
      c.socket.destroy();
    }
  });

  it('malformed packets end only their own session, with an error packet', async () => {
    const other = await connect(['read']);
    const c = await connect(['read']);
    const violations = port.ended.filter((e) => e.reason === 'violation').length;
    const bytes: Buffer[] = [];
    c.channel.detachWithRest();
    c.socket.on('data', (b: Buffer) => bytes.push(b));
    const closed = new Promise((resolve) => c.socket.once('close', resolve));
    c.socket.resume();
    // A command packet whose sequence id is not 0.
    c.socket.write(Buffer.from([0x05, 0x00, 0x00, 0x07, Command.Query, 0x53, 0x45, 0x4c, 0x45]));
    await closed;
    const answer = Buffer.concat(bytes);
    expect(answer[4]).toBe(0xff);
    expect(decodeErr(answer.subarray(4))).toMatchObject({ code: 1043, message: expect.stringContaining('sequence id 7') });
    await port.until(() => port.ended.filter((e) => e.reason === 'violation').length > violations);
    expect((await upstreamQuery(other.channel, other.capabilities, 'SELECT 3')).rows).toEqual([['3']]);
    other.socket.destroy();
    c.socket.destroy();
  });
});

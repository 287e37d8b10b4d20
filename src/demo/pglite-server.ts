import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { simpleQuery, type ProtocolDatabase } from './pglite-thread.js';
import { sessionSettings, settingSql } from './startup-settings.js';

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;
const MAX_MESSAGE = 64 * 1024 * 1024;

function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const cstr = (s: string) => Buffer.from(`${s}\0`, 'utf8');

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

function startupReply(pid: number): Buffer {
  const params: Record<string, string> = {
    server_version: '17.5 (PGlite, Airlock demo)',
    server_encoding: 'UTF8',
    client_encoding: 'UTF8',
    DateStyle: 'ISO, MDY',
    integer_datetimes: 'on',
    standard_conforming_strings: 'on',
    TimeZone: 'UTC',
  };
  return Buffer.concat([
    message('R', int32(0)),
    ...Object.entries(params).map(([k, v]) => message('S', Buffer.concat([cstr(k), cstr(v)]))),
    message('K', Buffer.concat([int32(pid), int32(0)])),
    message('Z', Buffer.from('I')),
  ]);
}

function errorReply(code: string, text: string): Buffer {
  return message('E', Buffer.concat([Buffer.from('SFATAL\0'), Buffer.from(`C${code}\0`), cstr(`M${text}`), Buffer.from([0])]));
}

/** A startup packet's parameters (user, database, options, …). */
function startupParams(params: Buffer): Map<string, string> {
  const parts = params.toString('utf8').split('\0');
  const out = new Map<string, string>();
  for (let i = 0; i + 1 < parts.length && parts[i]; i += 2) out.set(parts[i]!, parts[i + 1]!);
  return out;
}

/** The one-row answer PostgreSQL gives `select pg_terminate_backend(pid)`. */
function terminatedReply(ended: boolean): Buffer {
  const field = Buffer.concat([cstr('pg_terminate_backend'), int32(0), Buffer.from([0, 0]), int32(16), Buffer.from([0, 1]), int32(-1), Buffer.from([0, 0])]);
  return Buffer.concat([
    message('T', Buffer.concat([Buffer.from([0, 1]), field])),
    message('D', Buffer.concat([Buffer.from([0, 1]), int32(1), Buffer.from(ended ? 't' : 'f')])),
    message('C', cstr('SELECT 1')),
    message('Z', Buffer.from('I')),
  ]);
}

/** The pids handed to connections start here, well clear of the backend's own. */
const FIRST_PID = 1000;
const TERMINATE_QUERY = /^\s*select\s+pg_terminate_backend\(\s*(\d+)\s*\)\s*;?\s*$/i;

const RESETS_ALL = /\b(reset|discard)\s+all\b/i;

/** One client connection: the settings it asked for at startup, and the transaction state its last reply left. */
interface Connection {
  readonly pid: number;
  readonly socket: Socket;
  settings: Map<string, string>;
  closed: boolean;
  txStatus: string;
}

const md5 = (data: string | Buffer) => createHash('md5').update(data).digest('hex');

/** The answer to AuthenticationMD5Password PostgreSQL expects: md5(md5(password + user) + salt). */
function md5Answer(user: string, password: string, salt: Buffer): Buffer {
  return Buffer.from(`md5${md5(Buffer.concat([Buffer.from(md5(password + user)), salt]))}`);
}

/**
 * Serves the demo's PGlite database on a TCP port, so the zero-install demo
 * has a real PostgreSQL (the engine compiled to WASM) for the gateway to sit
 * in front of. With a `password` (the demo makes one at random per start and
 * gives it only to the gateway), it answers only a client that knows it (md5
 * sign-in): the database is reached through the gateway, not around it.
 *
 * PGlite is a single backend: messages from all connections run one at a
 * time. Each connection's startup settings (the gateway's
 * `default_transaction_read_only=on` for read roles, its timeouts) are put
 * in place whenever the backend passes from one connection to another, so a
 * read session stays read-only even after a write session ran. Each
 * connection gets a pid of its own, so the gateway's `pg_terminate_backend`
 * of a cut session drops that connection at once, even while the backend is
 * still busy with its statement.
 */
export async function servePglite(db: ProtocolDatabase, host = '127.0.0.1', port = 0, password?: string): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  let queue: Promise<unknown> = Promise.resolve();
  const enqueue = <T>(work: () => Promise<T>) => {
    const next = queue.then(work);
    queue = next.catch(() => undefined);
    return next;
  };
  const connections = new Map<number, Connection>();
  let nextPid = FIRST_PID;
  let owner: Connection | null = null;
  // The settings the backend holds now, as the last connection to run asked for them.
  let applied = new Map<string, string>();

  const handOver = async (conn: Connection) => {
    if (owner === conn) return;
    owner = conn;
    for (const sql of settingSql(applied, conn.settings)) await db.execProtocolRaw(simpleQuery(sql));
    applied = conn.settings;
  };
  const run = (conn: Connection, bytes: Uint8Array) =>
    enqueue(async () => {
      // A cut or closed connection's remaining messages are dropped, not run.
      if (conn.closed) return new Uint8Array(0);
      await handOver(conn);
      const reply = await db.execProtocolRaw(bytes);
      // PostgreSQL's RESET ALL (and DISCARD ALL, which the gateway's pool runs) goes back to the startup settings, not past them.
      if (RESETS_ALL.test(Buffer.from(bytes).toString('latin1'))) for (const sql of settingSql(new Map(), conn.settings)) await db.execProtocolRaw(simpleQuery(sql));
      const z = reply.length >= 6 ? reply.length - 6 : -1;
      if (z >= 0 && reply[z] === 0x5a /* ReadyForQuery */) conn.txStatus = String.fromCharCode(reply[z + 5]!);
      return reply;
    });
  const closed = (conn: Connection) => {
    if (conn.closed) return;
    conn.closed = true;
    connections.delete(conn.pid);
    conn.socket.destroy();
    // A connection that left in a transaction (or mid-pipeline) must not leave it to the next one.
    void enqueue(async () => {
      if (owner !== conn || conn.txStatus === 'I') return;
      await db.execProtocolRaw(Uint8Array.from(message('S', Buffer.alloc(0))));
      await db.execProtocolRaw(simpleQuery('rollback'));
    });
  };
  const sockets = new Set<Socket>();

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffer = Buffer.alloc(0);
    let conn: Connection | null = null;
    let pending: { user: string; salt: Buffer } | null = null;
    let startup = new Map<string, string>();
    let chain: Promise<void> = Promise.resolve();
    socket.on('close', () => conn && closed(conn));

    const welcome = (params: Map<string, string>) => {
      conn = { pid: nextPid++, socket, settings: sessionSettings(params), closed: false, txStatus: 'I' };
      connections.set(conn.pid, conn);
      socket.write(startupReply(conn.pid));
    };

    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (!conn && !pending) {
          if (buffer.length < 8) return;
          const len = buffer.readInt32BE(0);
          if (len < 8 || len > 10_000) return void socket.end(errorReply('08P01', 'invalid startup packet'));
          if (buffer.length < len) return;
          const code = buffer.readInt32BE(4);
          const params = startupParams(buffer.subarray(8, len));
          buffer = buffer.subarray(len);
          if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
            socket.write('N');
            continue;
          }
          if (code === CANCEL_REQUEST) return void socket.end();
          if (code !== PROTOCOL_3) return void socket.end(errorReply('0A000', 'unsupported frontend protocol'));
          if (password === undefined) {
            welcome(params);
            continue;
          }
          pending = { user: params.get('user') ?? '', salt: randomBytes(4) };
          startup = params;
          socket.write(message('R', Buffer.concat([int32(5), pending.salt])));
          continue;
        }
        if (buffer.length < 5) return;
        const len = buffer.readInt32BE(1);
        if (len < 4 || len > MAX_MESSAGE) return void socket.end(errorReply('08P01', 'invalid message length'));
        if (buffer.length < len + 1) return;
        const frame = buffer.subarray(0, len + 1);
        buffer = buffer.subarray(len + 1);
        if (frame[0] === 0x58 /* Terminate */) {
          if (conn) closed(conn);
          return void socket.end();
        }
        if (pending) {
          const sent = frame[0] === 0x70 /* PasswordMessage */ ? frame.subarray(5, frame.length - 1) : Buffer.alloc(0);
          const expected = md5Answer(pending.user, password!, pending.salt);
          pending = null;
          if (sent.length !== expected.length || !timingSafeEqual(sent, expected)) {
            return void socket.end(errorReply('28P01', 'password authentication failed: the demo database is reached through the Airlock gateway (airlock connect orders-db)'));
          }
          welcome(startup);
          continue;
        }
        const target = frame[0] === 0x51 /* Query */ ? TERMINATE_QUERY.exec(frame.subarray(5, frame.length - 1).toString('utf8')) : null;
        const pid = target ? Number(target[1]) : NaN;
        if (pid >= FIRST_PID && pid < nextPid) {
          // Answered here, not by the backend, which may be busy with the victim's own statement
          // (the victim may have gone already: the gateway sends its Terminate at the same time).
          const victim = connections.get(pid);
          if (victim) closed(victim);
          chain = chain.then(() => void (socket.destroyed || socket.write(terminatedReply(!!victim))));
          continue;
        }
        const session = conn!;
        const copy = Uint8Array.from(frame);
        chain = chain.then(async () => {
          try {
            const reply = await run(session, copy);
            if (reply.length > 0 && !socket.destroyed) socket.write(reply);
          } catch (err) {
            if (!socket.destroyed) socket.end(errorReply('XX000', `demo database error: ${(err as Error).message}`));
          }
        });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return {
    server,
    port: typeof address === 'object' && address ? address.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

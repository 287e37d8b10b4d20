import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

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

function startupReply(): Buffer {
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
    message('K', Buffer.concat([int32(process.pid), int32(0)])),
    message('Z', Buffer.from('I')),
  ]);
}

function errorReply(code: string, text: string): Buffer {
  return message('E', Buffer.concat([Buffer.from('SFATAL\0'), Buffer.from(`C${code}\0`), cstr(`M${text}`), Buffer.from([0])]));
}

/** The user named in a startup packet's parameters. */
function startupUser(params: Buffer): string {
  const parts = params.toString('utf8').split('\0');
  const i = parts.indexOf('user');
  return i >= 0 ? (parts[i + 1] ?? '') : '';
}

const md5 = (data: string | Buffer) => createHash('md5').update(data).digest('hex');

/** The answer to AuthenticationMD5Password PostgreSQL expects: md5(md5(password + user) + salt). */
function md5Answer(user: string, password: string, salt: Buffer): Buffer {
  return Buffer.from(`md5${md5(Buffer.concat([Buffer.from(md5(password + user)), salt]))}`);
}

/**
 * Serves an in-process PGlite database on a TCP port, so the zero-install demo has a real PostgreSQL (the
 * engine compiled to WASM) for the gateway to sit in front of. With a
 * `password` (the demo makes one at random per start and gives it only to the
 * gateway), it answers only a client that knows it (md5 sign-in): the
 * database is reached through the gateway, not around it. PGlite is a
 * single session: messages from all connections are run one at a time, and
 * connections share its session state, which is fine for a demo.
 */
export async function servePglite(db: PGlite, host = '127.0.0.1', port = 0, password?: string): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  let queue: Promise<unknown> = Promise.resolve();
  const run = (bytes: Uint8Array) => {
    const next = queue.then(() => db.execProtocolRaw(bytes));
    queue = next.catch(() => undefined);
    return next;
  };
  const sockets = new Set<Socket>();

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffer = Buffer.alloc(0);
    let started = false;
    let pending: { user: string; salt: Buffer } | null = null;
    let chain: Promise<void> = Promise.resolve();

    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (!started) {
          if (buffer.length < 8) return;
          const len = buffer.readInt32BE(0);
          if (len < 8 || len > 10_000) return void socket.end(errorReply('08P01', 'invalid startup packet'));
          if (buffer.length < len) return;
          const code = buffer.readInt32BE(4);
          const startup = buffer.subarray(8, len);
          buffer = buffer.subarray(len);
          if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
            socket.write('N');
            continue;
          }
          if (code === CANCEL_REQUEST) return void socket.end();
          if (code !== PROTOCOL_3) return void socket.end(errorReply('0A000', 'unsupported frontend protocol'));
          started = true;
          if (password === undefined) {
            socket.write(startupReply());
            continue;
          }
          pending = { user: startupUser(startup), salt: randomBytes(4) };
          socket.write(message('R', Buffer.concat([int32(5), pending.salt])));
          continue;
        }
        if (buffer.length < 5) return;
        const len = buffer.readInt32BE(1);
        if (len < 4 || len > MAX_MESSAGE) return void socket.end(errorReply('08P01', 'invalid message length'));
        if (buffer.length < len + 1) return;
        const frame = buffer.subarray(0, len + 1);
        buffer = buffer.subarray(len + 1);
        if (frame[0] === 0x58 /* Terminate */) return void socket.end();
        if (pending) {
          const sent = frame[0] === 0x70 /* PasswordMessage */ ? frame.subarray(5, frame.length - 1) : Buffer.alloc(0);
          const expected = md5Answer(pending.user, password!, pending.salt);
          pending = null;
          if (sent.length !== expected.length || !timingSafeEqual(sent, expected)) {
            return void socket.end(errorReply('28P01', 'password authentication failed: the demo database is reached through the Airlock gateway (airlock connect orders-db)'));
          }
          socket.write(startupReply());
          continue;
        }
        const copy = Uint8Array.from(frame);
        chain = chain.then(async () => {
          try {
            const reply = await run(copy);
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

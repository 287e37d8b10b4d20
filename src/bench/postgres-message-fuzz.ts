import { FuzzGuard, randomBytes, rng, runFuzzCommand, withoutStacks } from './fuzz-run.js';
import { PgGatewayError } from '../gateway/postgres/errors.js';
import { StartupCode } from '../gateway/postgres/protocol/codes.js';
import * as msg from '../gateway/postgres/protocol/messages.js';
import { FrameReader } from '../gateway/postgres/protocol/reader.js';
import { ScramClient } from '../gateway/postgres/scram-client.js';
import { scramServerFinal, scramServerFirst } from '../gateway/postgres/scram-server.js';

/**
 * Fuzzes what a PostgreSQL client can make the gateway decode before and
 * after authentication: the startup packet (and SSL/GSS/cancel requests),
 * the SCRAM exchange, and every frontend message the relay reads (Query,
 * Parse, Bind, Execute, Describe, Close), framed from random chunkings of
 * random and mutated byte streams. The only acceptable failure is a
 * PgGatewayError (which becomes an ErrorResponse and ends that session);
 * anything else would be a bug that escapes the typed error path. `npm test`
 * runs a short version; `npm run fuzz` (or `node dist/bench/postgres-message-fuzz.js
 * 1000000 [seed]`) runs the long one.
 */

export interface FuzzResult {
  readonly inputs: number;
  readonly frames: number;
  readonly violations: number;
  readonly unexpected: string[];
}

function typed(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}
const cstr = (s: string) => Buffer.from(`${s}\0`, 'utf8');
const int16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n | 0, 0);
  return b;
};

const SALT = Buffer.from('c2FsdHNhbHRzYWx0', 'base64');
const ITERATIONS = 4096;
const scram = new ScramClient('alk_fuzz');
const CLIENT_FIRST = scram.clientFirst();
const CLIENT_FINAL = scram.clientFinal(Buffer.from(scramServerFirst('SCRAM-SHA-256', CLIENT_FIRST.toString(), SALT, ITERATIONS).serverFirst)).toString();

/** Valid streams to mutate: what real clients send. */
const STARTUP_SEEDS: readonly Buffer[] = [
  msg.startupMessage({ user: 'alice', database: 'orders-db', application_name: 'psql', client_encoding: 'UTF8' }),
  msg.startupMessage({ user: 'bob', database: 'x', _pq_: 'y', '_pq_.opt': '1' }),
  msg.sslRequest(),
  msg.cancelRequest(1234, 5678),
  Buffer.concat([int32(8), int32(StartupCode.GSSENCRequest)]),
];

const MESSAGE_SEEDS: readonly Buffer[] = [
  msg.query("select * from orders where id = 1; select 'a''b'"),
  typed('P', Buffer.concat([cstr('s1'), cstr('select $1::int'), int16(1), int32(23)])),
  typed('B', Buffer.concat([cstr('p1'), cstr('s1'), int16(1), int16(0), int16(1), int32(2), Buffer.from('42'), int16(1), int16(1)])),
  typed('E', Buffer.concat([cstr('p1'), int32(100)])),
  typed('D', Buffer.concat([Buffer.from('S'), cstr('s1')])),
  typed('C', Buffer.concat([Buffer.from('P'), cstr('p1')])),
  typed('S', Buffer.alloc(0)),
  typed('H', Buffer.alloc(0)),
  msg.saslInitialResponse('SCRAM-SHA-256', CLIENT_FIRST),
  msg.saslResponse(Buffer.from(CLIENT_FINAL)),
];

function mutate(next: () => number, base: Buffer): Buffer {
  let b = Buffer.from(base);
  const edits = 1 + (next() % 4);
  for (let i = 0; i < edits; i++) {
    const at = next() % Math.max(1, b.length);
    switch (next() % 6) {
      case 0:
        b[at] = next() & 0xff;
        break;
      case 1:
        return b.subarray(0, at);
      case 2:
        // A length or count field made extreme.
        if (b.length >= at + 4) b.writeInt32BE([0, -1, 3, 0x7fffffff, -0x80000000, b.length][next() % 6]! | 0, at);
        break;
      case 3:
        b[at] = [0x00, 0xff, 0x2c, 0x3d][next() % 4]!;
        break;
      case 4:
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
        break;
      default:
        return Buffer.concat([b, randomBytes(next, 1 + (next() % 8))]);
    }
  }
  return b;
}

/** What the relay and the startup code read from each frontend message type. */
function decodeFrontend(type: number, body: Buffer): void {
  switch (String.fromCharCode(type)) {
    case 'Q':
      msg.parseQuery(body);
      return;
    case 'P':
      msg.parseParse(body);
      return;
    case 'B':
      msg.parseBind(body);
      return;
    case 'E':
      msg.parseExecute(body);
      return;
    case 'D':
    case 'C':
      msg.parseTarget(body);
      return;
  }
}

/** As client-startup.ts reads a startup-phase packet. */
function decodeStartup(body: Buffer): void {
  const code = body.readInt32BE(0);
  if (code === StartupCode.SSLRequest || code === StartupCode.GSSENCRequest || code === StartupCode.CancelRequest) return;
  if (code >>> 16 !== 3) return;
  msg.parseStartupParams(body);
}

/** As client-startup.ts runs the SCRAM exchange, with the client's two messages taken from the fuzzed bytes. */
function exchange(initial: Buffer, final: Buffer): void {
  const [mechanism, off] = msg.readCString(initial, 0);
  if (off + 4 > initial.length) throw new PgGatewayError('protocol_violation', 'malformed SASLInitialResponse');
  const dataLength = initial.readInt32BE(off);
  if (dataLength < 0 || off + 4 + dataLength !== initial.length) throw new PgGatewayError('protocol_violation', 'malformed SASLInitialResponse');
  const first = scramServerFirst(mechanism, initial.toString('utf8', off + 4), SALT, ITERATIONS);
  scramServerFinal(first.state, final.toString('utf8'), []);
}

export function fuzzPostgresDecoder(opts: { inputs: number; seed: number }): FuzzResult {
  return withoutStacks(() => fuzz(opts));
}

function fuzz(opts: { inputs: number; seed: number }): FuzzResult {
  const next = rng(opts.seed);
  let frames = 0;
  const guard = new FuzzGuard((err) => err instanceof PgGatewayError, 120);
  const pick = (seeds: readonly Buffer[]) => seeds[next() % seeds.length]!;
  for (let i = 0; i < opts.inputs; i++) {
    const startup = next() % 5 === 0 ? randomBytes(next, next() % 48) : mutate(next, pick(STARTUP_SEEDS));
    guard.run('startup', startup, () => {
      const reader = new FrameReader({ typed: false, maxLength: 10 * 1024 });
      feed(next, reader, startup, (body) => decodeStartup(body));
    });
    // A stream of a few messages, some mutated, framed as the relay frames them.
    const parts: Buffer[] = [];
    for (let n = 1 + (next() % 4); n > 0; n--) parts.push(next() % 3 === 0 ? mutate(next, pick(MESSAGE_SEEDS)) : pick(MESSAGE_SEEDS));
    if (next() % 8 === 0) parts.push(randomBytes(next, next() % 32));
    const stream = Buffer.concat(parts);
    guard.run('frontend', stream, () => {
      const reader = new FrameReader({ typed: true, maxLength: 1 << 20 });
      feed(next, reader, stream, (body, type) => decodeFrontend(type, body));
    });
    const initial = mutate(next, MESSAGE_SEEDS[8]!.subarray(5));
    const final = next() % 2 === 0 ? mutate(next, Buffer.from(CLIENT_FINAL)) : randomBytes(next, next() % 64);
    guard.run('scram', Buffer.concat([initial, final]), () => exchange(initial, final));
  }
  return { inputs: opts.inputs, frames, violations: guard.violations, unexpected: guard.unexpected };

  function feed(rand: () => number, reader: FrameReader, bytes: Buffer, decode: (body: Buffer, type: number) => void): void {
    for (let at = 0; at < bytes.length; ) {
      const step = 1 + (rand() % 24);
      reader.push(bytes.subarray(at, at + step));
      at += step;
      for (let f = reader.next(); f; f = reader.next()) {
        frames++;
        decode(f.body, f.type);
      }
    }
  }
}

runFuzzCommand(import.meta.url, fuzzPostgresDecoder);

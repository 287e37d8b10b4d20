import { FuzzGuard, randomBytes, rng, runFuzzCommand, withoutStacks } from './fuzz-run.js';
import { MysqlGatewayError } from '../gateway/mysql/errors.js';
import { decodeExecute } from '../gateway/mysql/protocol/execute.js';
import { encodePacket, PacketFramer } from '../gateway/mysql/protocol/framer.js';
import { decodeErr, decodeHandshakeResponse, decodeHandshakeV10, decodeOk, encodeHandshakeResponse } from '../gateway/mysql/protocol/messages.js';
import { lexMysql } from '../gateway/mysql/sql/lexer.js';

/**
 * Fuzzes the MySQL packet decoder: random and mutated inputs (malformed
 * lengths, sequence ids, truncated packets, garbage payloads) through the
 * framer and every payload decoder a client or upstream can reach. The only
 * acceptable failure is a MysqlGatewayError (which becomes an error packet);
 * anything else would crash a session. `npm test` runs a short version; run
 * `node dist/bench/mysql-packet-fuzz.js 1000000` for the long one.
 */

export interface FuzzResult {
  readonly inputs: number;
  readonly packets: number;
  readonly violations: number;
  readonly unexpected: string[];
}

const SEEDS: readonly Buffer[] = [
  encodeHandshakeResponse({
    capabilities: 0x000fa68d | (1 << 20) | (1 << 21),
    maxPacket: 1 << 24,
    collation: 45,
    user: 'alice',
    authResponse: Buffer.alloc(20, 7),
    database: 'orders',
    authPlugin: 'mysql_native_password',
    attributes: new Map([['_client_name', 'libmariadb']]),
  }),
  Buffer.from('0a382e302e3336000100000061626364656667680000ffff2d0200ff8115000000000000000000006162636465666768696a6b6c00', 'hex'),
  Buffer.from([0x17, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 0, 8, 0x80, 0xfe, 42, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]),
  Buffer.from([0x00, 0xfc, 0x10, 0x00, 0x05, 0x02, 0x00, 0x00, 0x00]),
  Buffer.from('ff1904233432303030756e6b6e6f776e', 'hex'),
  Buffer.from("\x03SELECT 'a\\'' /* c */ -- x\n FROM t", 'latin1'),
];

function mutate(next: () => number, base: Buffer): Buffer {
  const b = Buffer.from(base);
  const edits = 1 + (next() % 4);
  for (let i = 0; i < edits; i++) {
    const at = next() % Math.max(1, b.length);
    switch (next() % 4) {
      case 0:
        b[at] = next() & 0xff;
        break;
      case 1:
        return b.subarray(0, at);
      case 2:
        b[at] = [0x00, 0xfb, 0xfc, 0xfd, 0xfe, 0xff][next() % 6]!;
        break;
      default:
        return Buffer.concat([b, Buffer.from([next() & 0xff, next() & 0xff])]);
    }
  }
  return b;
}

export function fuzzPacketDecoder(opts: { inputs: number; seed: number }): FuzzResult {
  return withoutStacks(() => fuzz(opts));
}

function fuzz(opts: { inputs: number; seed: number }): FuzzResult {
  const next = rng(opts.seed);
  let packets = 0;
  const guard = new FuzzGuard((err) => err instanceof MysqlGatewayError, 80);
  for (let i = 0; i < opts.inputs; i++) {
    const payload = next() % 5 === 0 ? randomBytes(next, next() % 64) : mutate(next, SEEDS[next() % SEEDS.length]!);
    // Framing: a well-formed header with a mutated payload, or a raw mutated stream, fed in random chunk sizes.
    const stream = next() % 2 === 0 ? encodePacket(payload, next() & 0xff).bytes : mutate(next, encodePacket(payload, 0).bytes);
    guard.run('framer', stream, () => {
      const framer = new PacketFramer(1 << 16);
      for (let at = 0; at < stream.length; ) {
        const step = 1 + (next() % 16);
        framer.push(stream.subarray(at, at + step));
        at += step;
        while (framer.next()) packets++;
      }
    });
    guard.run('handshake response', payload, () => decodeHandshakeResponse(payload));
    guard.run('handshake', payload, () => decodeHandshakeV10(payload));
    guard.run('ok', payload, () => decodeOk(payload));
    guard.run('err', payload, () => decodeErr(payload));
    guard.run('execute', payload, () => decodeExecute(payload, next() % 5, undefined, new Set([next() % 5])));
    guard.run('lexer', payload, () => lexMysql(payload.toString('utf8')));
  }
  return { inputs: opts.inputs, packets, violations: guard.violations, unexpected: guard.unexpected };
}

runFuzzCommand(import.meta.url, fuzzPacketDecoder);

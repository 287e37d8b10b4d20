import { protocolViolation } from '../errors.js';
import { Capability, ErrorCode, type ErrorKind, Header } from './codes.js';
import { PayloadReader, PayloadWriter } from './payload.js';

/** Typed codecs for the handshake and the generic response packets. One function per message. */

export interface HandshakeV10 {
  readonly serverVersion: string;
  readonly connectionId: number;
  /** The 20-byte scramble (nonce) both auth plugins use. */
  readonly nonce: Buffer;
  readonly capabilities: number;
  readonly collation: number;
  readonly status: number;
  readonly authPlugin: string;
}

export function encodeHandshakeV10(h: HandshakeV10): Buffer {
  return new PayloadWriter()
    .u8(10)
    .nulString(h.serverVersion)
    .u32(h.connectionId)
    .bytes(h.nonce.subarray(0, 8))
    .u8(0)
    .u16(h.capabilities & 0xffff)
    .u8(h.collation)
    .u16(h.status)
    .u16((h.capabilities >>> 16) & 0xffff)
    .u8(h.nonce.length + 1)
    .zeros(10)
    .bytes(h.nonce.subarray(8))
    .u8(0)
    .nulString(h.authPlugin)
    .build();
}

export function decodeHandshakeV10(payload: Buffer): HandshakeV10 {
  const r = new PayloadReader(payload);
  const protocol = r.u8();
  if (protocol !== 10) throw protocolViolation(`server handshake protocol ${protocol}, only 10 is supported`);
  const serverVersion = r.nulString('server version');
  const connectionId = r.u32();
  const part1 = r.bytes(8);
  r.u8();
  let capabilities = r.u16();
  const collation = r.u8();
  const status = r.u16();
  capabilities = (capabilities | (r.u16() << 16)) >>> 0;
  const authLength = r.u8();
  r.bytes(10);
  let part2: Buffer = Buffer.alloc(0);
  if (capabilities & Capability.SecureConnection) {
    part2 = r.bytes(Math.max(13, authLength - 8));
    // The scramble is NUL-terminated inside its announced length.
    if (part2[part2.length - 1] === 0) part2 = part2.subarray(0, part2.length - 1);
  }
  let authPlugin: string = 'mysql_native_password';
  if (capabilities & Capability.PluginAuth && r.remaining > 0) {
    const rest = r.rest();
    const nul = rest.indexOf(0);
    authPlugin = (nul < 0 ? rest : rest.subarray(0, nul)).toString('latin1');
  }
  return { serverVersion, connectionId, nonce: Buffer.concat([part1, part2]), capabilities, collation, status, authPlugin };
}

/** The first 32 bytes of a HandshakeResponse41; alone, with CLIENT_SSL set, it is an SSLRequest. */
export interface ClientHello {
  readonly capabilities: number;
  readonly maxPacket: number;
  readonly collation: number;
}

export interface HandshakeResponse extends ClientHello {
  readonly user: string;
  readonly authResponse: Buffer;
  readonly database?: string;
  readonly authPlugin?: string;
  readonly attributes: ReadonlyMap<string, string>;
}

export const SSL_REQUEST_LENGTH = 32;

export function decodeClientHello(payload: Buffer): ClientHello {
  const r = new PayloadReader(payload);
  const capabilities = r.u32();
  if (!(capabilities & Capability.Protocol41)) throw protocolViolation('clients older than protocol 4.1 are not supported');
  const maxPacket = r.u32();
  const collation = r.u8();
  r.bytes(23);
  return { capabilities, maxPacket, collation };
}

export function decodeHandshakeResponse(payload: Buffer): HandshakeResponse {
  const hello = decodeClientHello(payload);
  const r = new PayloadReader(payload, SSL_REQUEST_LENGTH);
  const caps = hello.capabilities;
  const user = r.nulString('user name');
  let authResponse: Buffer;
  if (caps & Capability.PluginAuthLenencData) authResponse = r.lenencBytes('auth response');
  else if (caps & Capability.SecureConnection) authResponse = r.bytes(r.u8());
  else authResponse = r.nulBytes('auth response');
  let database: string | undefined;
  if (caps & Capability.ConnectWithDb && r.remaining > 0) database = r.nulString('database');
  let authPlugin: string | undefined;
  if (caps & Capability.PluginAuth && r.remaining > 0) authPlugin = r.nulString('auth plugin');
  const attributes = new Map<string, string>();
  if (caps & Capability.ConnectAttrs && r.remaining > 0) {
    const end = r.offset + r.lenencNumber('connection attributes');
    if (end > payload.length) throw protocolViolation('truncated packet: connection attributes run past the end');
    while (r.offset < end) {
      const key = r.lenencBytes('attribute name').toString('utf8');
      attributes.set(key, r.lenencBytes('attribute value').toString('utf8'));
    }
  }
  return { ...hello, user, authResponse, database: database || undefined, authPlugin, attributes };
}

export function encodeClientHello(h: ClientHello): Buffer {
  return new PayloadWriter().u32(h.capabilities).u32(h.maxPacket).u8(h.collation).zeros(23).build();
}

export function encodeHandshakeResponse(h: HandshakeResponse): Buffer {
  const w = new PayloadWriter().bytes(encodeClientHello(h)).nulString(h.user);
  if (h.capabilities & Capability.PluginAuthLenencData) w.lenencBytes(h.authResponse);
  else w.u8(h.authResponse.length).bytes(h.authResponse);
  if (h.capabilities & Capability.ConnectWithDb) w.nulString(h.database ?? '');
  if (h.capabilities & Capability.PluginAuth) w.nulString(h.authPlugin ?? '');
  if (h.capabilities & Capability.ConnectAttrs) {
    const attrs = new PayloadWriter();
    for (const [k, v] of h.attributes) attrs.lenencBytes(k).lenencBytes(v);
    w.lenencBytes(attrs.build());
  }
  return w.build();
}

export interface OkPacket {
  readonly affectedRows: number;
  readonly lastInsertId: number;
  readonly status: number;
  readonly warnings: number;
}

export function encodeOk(ok: Partial<OkPacket> & { readonly status: number }): Buffer {
  return new PayloadWriter()
    .u8(Header.Ok)
    .lenenc(ok.affectedRows ?? 0)
    .lenenc(ok.lastInsertId ?? 0)
    .u16(ok.status)
    .u16(ok.warnings ?? 0)
    .build();
}

/** An OK packet, or under CLIENT_DEPRECATE_EOF an 0xFE-headed OK ending a result set. */
export function decodeOk(payload: Buffer): OkPacket {
  const r = new PayloadReader(payload, 1);
  const affectedRows = r.lenencNumber('affected rows');
  const lastInsertId = r.lenencNumber('last insert id');
  const status = r.remaining >= 2 ? r.u16() : 0;
  const warnings = r.remaining >= 2 ? r.u16() : 0;
  return { affectedRows, lastInsertId, status, warnings };
}

export function encodeEof(status: number, warnings = 0): Buffer {
  return new PayloadWriter().u8(Header.Eof).u16(warnings).u16(status).build();
}

/** Status flags of an old-style EOF packet (5 bytes). */
export function eofStatus(payload: Buffer): number {
  return payload.length >= 5 ? payload.readUInt16LE(3) : 0;
}

export interface ErrPacket {
  readonly code: number;
  readonly sqlstate: string;
  readonly message: string;
}

export function encodeErr(err: ErrPacket): Buffer {
  return new PayloadWriter().u8(Header.Err).u16(err.code).bytes('#').bytes(err.sqlstate.slice(0, 5).padEnd(5, '0')).bytes(err.message).build();
}

export function errorPacket(kind: ErrorKind, message: string): Buffer {
  return encodeErr({ ...ErrorCode[kind], message });
}

export function decodeErr(payload: Buffer): ErrPacket {
  const r = new PayloadReader(payload, 1);
  const code = r.u16();
  let sqlstate = 'HY000';
  if (r.remaining >= 6 && payload[r.offset] === 0x23) {
    r.u8();
    sqlstate = r.bytes(5).toString('latin1');
  }
  return { code, sqlstate, message: r.rest().toString('utf8') };
}

export function encodeAuthSwitch(plugin: string, data: Buffer): Buffer {
  return new PayloadWriter().u8(Header.Eof).nulString(plugin).bytes(data).build();
}

export function decodeAuthSwitch(payload: Buffer): { plugin: string; data: Buffer } {
  const r = new PayloadReader(payload, 1);
  const plugin = r.nulString('auth plugin');
  let data = r.rest();
  // The 20-byte scramble comes NUL-terminated; ed25519's 32-byte nonce does not (and may end in 0).
  if (data.length === 21 && data[20] === 0) data = data.subarray(0, 20);
  return { plugin, data };
}

export function encodeAuthMoreData(data: Buffer): Buffer {
  return new PayloadWriter().u8(Header.AuthMoreData).bytes(data).build();
}

import { AuthCode, Backend, Frontend, StartupCode } from './codes.js';
import { protocolViolation } from '../errors.js';

/** Builders and parsers for the messages the gateway itself writes or inspects. */

function typed(type: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = type;
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

function int32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n, 0);
  return b;
}

function cstr(s: string): Buffer {
  return Buffer.from(`${s}\0`, 'utf8');
}

// ---- backend messages (gateway → client) ----

export interface ErrorFields {
  readonly severity: 'ERROR' | 'FATAL';
  readonly sqlstate: string;
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
}

export function errorResponse(e: ErrorFields): Buffer {
  const parts = [cstr(`S${e.severity}`), cstr(`V${e.severity}`), cstr(`C${e.sqlstate}`), cstr(`M${e.message}`)];
  if (e.detail) parts.push(cstr(`D${e.detail}`));
  if (e.hint) parts.push(cstr(`H${e.hint}`));
  parts.push(Buffer.from([0]));
  return typed(Backend.ErrorResponse, Buffer.concat(parts));
}

export function commandComplete(tag: string): Buffer {
  return typed(Backend.CommandComplete, cstr(tag));
}

const READY = new Map<number, Buffer>();
export function readyForQuery(txStatus: number): Buffer {
  let b = READY.get(txStatus);
  if (!b) {
    b = typed(Backend.ReadyForQuery, Buffer.from([txStatus]));
    READY.set(txStatus, b);
  }
  return b;
}

export function authentication(code: number, data?: Buffer): Buffer {
  return typed(Backend.Authentication, data ? Buffer.concat([int32(code), data]) : int32(code));
}

export const authenticationOk = () => authentication(AuthCode.Ok);

export const authenticationSasl = (mechanisms: readonly string[]) =>
  authentication(AuthCode.SASL, Buffer.concat([...mechanisms.map(cstr), Buffer.from([0])]));

export function parameterStatus(name: string, value: string): Buffer {
  return typed(Backend.ParameterStatus, Buffer.concat([cstr(name), cstr(value)]));
}

export function backendKeyData(pid: number, secret: number): Buffer {
  return typed(Backend.BackendKeyData, Buffer.concat([int32(pid), int32(secret)]));
}

export function negotiateProtocolVersion(newestMinor: number, unrecognized: readonly string[]): Buffer {
  return typed(Backend.NegotiateProtocolVersion, Buffer.concat([int32(newestMinor), int32(unrecognized.length), ...unrecognized.map(cstr)]));
}

// ---- frontend messages (gateway → upstream) ----

export function startupMessage(params: Readonly<Record<string, string>>): Buffer {
  const parts = [int32(StartupCode.Protocol3)];
  for (const [k, v] of Object.entries(params)) parts.push(cstr(k), cstr(v));
  parts.push(Buffer.from([0]));
  const body = Buffer.concat(parts);
  return Buffer.concat([int32(4 + body.length), body]);
}

export const sslRequest = () => Buffer.concat([int32(8), int32(StartupCode.SSLRequest)]);

export const cancelRequest = (pid: number, secret: number) =>
  Buffer.concat([int32(16), int32(StartupCode.CancelRequest), int32(pid), int32(secret)]);

export const passwordMessage = (password: string) => typed(Frontend.Password, cstr(password));

export const saslInitialResponse = (mechanism: string, data: Buffer) =>
  typed(Frontend.Password, Buffer.concat([cstr(mechanism), int32(data.length), data]));

export const saslResponse = (data: Buffer) => typed(Frontend.Password, data);

export const query = (text: string) => typed(Frontend.Query, cstr(text));

export const SYNC = typed(Frontend.Sync, Buffer.alloc(0));
export const TERMINATE = typed(Frontend.Terminate, Buffer.alloc(0));

// ---- parsers ----

/** A NUL-terminated string at `off`; returns it and the offset after the NUL. */
export function readCString(buf: Buffer, off: number): [string, number] {
  const end = buf.indexOf(0, off);
  if (end < 0) throw protocolViolation('unterminated string in message');
  return [buf.toString('utf8', off, end), end + 1];
}

/** StartupMessage parameters (after the protocol code); `user` and `database` are the ones that matter. */
export function parseStartupParams(body: Buffer): Map<string, string> {
  const params = new Map<string, string>();
  let off = 4;
  while (off < body.length && body[off] !== 0) {
    const [key, afterKey] = readCString(body, off);
    const [value, afterValue] = readCString(body, afterKey);
    params.set(key, value);
    off = afterValue;
  }
  if (off !== body.length - 1) throw protocolViolation('malformed startup packet');
  return params;
}

export interface ServerError {
  readonly severity: string;
  readonly sqlstate: string;
  readonly message: string;
}

export function parseErrorFields(body: Buffer): ServerError {
  let severity = '';
  let sqlstate = '';
  let message = '';
  let off = 0;
  while (off < body.length && body[off] !== 0) {
    const field = body[off]!;
    const [value, next] = readCString(body, off + 1);
    if (field === 0x56 /* V */ || (field === 0x53 /* S */ && !severity)) severity = value;
    else if (field === 0x43 /* C */) sqlstate = value;
    else if (field === 0x4d /* M */) message = value;
    off = next;
  }
  return { severity, sqlstate, message };
}

export function parseParse(body: Buffer): { name: string; text: string } {
  const [name, off] = readCString(body, 0);
  const [text, afterText] = readCString(body, off);
  if (afterText + 2 > body.length) throw protocolViolation('malformed Parse message');
  return { name, text };
}

export function parseBind(body: Buffer): { portal: string; statement: string } {
  const [portal, off] = readCString(body, 0);
  const [statement] = readCString(body, off);
  return { portal, statement };
}

export function parseExecute(body: Buffer): { portal: string } {
  const [portal, off] = readCString(body, 0);
  if (off + 4 !== body.length) throw protocolViolation('malformed Execute message');
  return { portal };
}

/** Close and Describe share a shape: 'S' or 'P', then a name. */
export function parseTarget(body: Buffer): { kind: 'S' | 'P'; name: string } {
  const kind = body[0];
  if (kind !== 0x53 && kind !== 0x50) throw protocolViolation('Close/Describe must target S or P');
  const [name, off] = readCString(body, 1);
  if (off !== body.length) throw protocolViolation('malformed Close/Describe message');
  return { kind: kind === 0x53 ? 'S' : 'P', name };
}

export function parseQuery(body: Buffer): string {
  const [text, off] = readCString(body, 0);
  if (off !== body.length) throw protocolViolation('malformed Query message');
  return text;
}

/** Rows affected/returned, from the last word of a CommandComplete tag (`INSERT 0 5`, `SELECT 3`). */
export function rowsFromTag(tag: string): number | undefined {
  const space = tag.lastIndexOf(' ');
  if (space < 0) return undefined;
  const n = Number(tag.slice(space + 1));
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

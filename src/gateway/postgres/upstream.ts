import { createHash } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import type { UpstreamTarget } from './backend.js';
import { PgGatewayError } from './errors.js';
import { AuthCode, Backend, Limits } from './protocol/codes.js';
import { FrameReader } from './protocol/reader.js';
import { SocketPuller } from './protocol/socket-puller.js';
import * as msg from './protocol/messages.js';
import { parseTextArray } from './protocol/text-array.js';
import { ScramClient } from './scram-client.js';
import { type CatalogFacts, CatalogFormatError, catalogFromParts } from './sql/catalog-facts.js';
import { CATALOG_QUERY } from './sql/catalog-query.js';
import { CatalogCache, catalogKey } from './sql/catalog-cache.js';

/** Shared by every session of this gateway: see catalog-cache.ts for why a short reuse is safe. */
const catalogCache = new CatalogCache();

/** The one 'error' listener an upstream socket gets however many sessions use it (errors surface as 'close'). */
export function ignoreSocketErrors(socket: net.Socket): void {
  socket.off('error', ignore);
  socket.on('error', ignore);
}
const ignore = () => undefined;

/** Drops reused catalog facts, so the next session of every login reads them afresh (tests). */
export function forgetCatalogFacts(): void {
  catalogCache.clear();
}

/**
 * Opens the upstream connection with a role's real credential and runs it up
 * to the first ReadyForQuery. Every error message here is shown to the end
 * user, so none of them carries the upstream password.
 */

export interface UpstreamOptions {
  readonly resource: string;
  readonly role: string;
  readonly applicationName: string;
  /** Adds `default_transaction_read_only=on` as defence in depth for read roles. */
  readonly readOnly: boolean;
  readonly timeoutMs?: number;
  /** Forced like the other pinned settings: a session may not lift them (SET of either needs admin). */
  readonly statementTimeoutSeconds?: number;
  readonly idleInTransactionTimeoutSeconds?: number;
}

export interface UpstreamConnection {
  readonly socket: net.Socket;
  /** ParameterStatus messages, as received, to replay to the client. */
  readonly parameterStatus: Buffer[];
  /** The upstream backend's own cancel key; never shown to the client. */
  readonly key: { readonly pid: number; readonly secret: number };
  readonly txStatus: number;
  readonly searchPath: string[];
  /** What the SQL policy must know about this database's user code (sql/catalog-facts.ts). */
  readonly catalog: CatalogFacts;
  /** Bytes read past the startup exchange, to be handled by the session. */
  readonly rest: Buffer;
}

const DEFAULT_TIMEOUT_MS = 15_000;

const unreachable = (resource: string, why: string) =>
  new PgGatewayError('upstream_unreachable', `airlock: cannot reach ${resource} upstream (${why})`);

function connectTcp(target: UpstreamTarget, resource: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port });
    socket.setNoDelay(true);
    const fail = (err: NodeJS.ErrnoException) => {
      socket.destroy();
      reject(unreachable(resource, err.code ?? err.message));
    };
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.off('error', fail);
      resolve(socket);
    });
  });
}

function readOneByte(socket: net.Socket, resource: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      cleanup();
      // Anything past the single answer byte would be unencrypted injection (CVE-2021-23222).
      if (chunk.length !== 1) reject(new PgGatewayError('upstream_protocol', `airlock: the ${resource} upstream sent unexpected bytes during TLS negotiation`));
      else resolve(chunk[0]!);
    };
    const onError = (err: NodeJS.ErrnoException) => {
      cleanup();
      reject(unreachable(resource, err.code ?? err.message));
    };
    const onClose = () => {
      cleanup();
      reject(unreachable(resource, 'connection closed'));
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}

/** TCP connect, then TLS if the target asks for it. */
export async function connectUpstreamSocket(target: UpstreamTarget, resource: string): Promise<net.Socket> {
  const socket = await connectTcp(target, resource);
  if (!target.tls) return socket;
  try {
    socket.write(msg.sslRequest());
    const answer = await readOneByte(socket, resource);
    if (answer !== 0x53 /* S */) {
      throw new PgGatewayError('upstream_tls_refused', `airlock: the ${resource} upstream does not accept TLS, which its configuration requires`);
    }
    const tlsOpts = target.tls;
    return await new Promise<net.Socket>((resolve, reject) => {
      const secure = tls.connect({
        socket,
        servername: net.isIP(target.host) ? undefined : target.host,
        rejectUnauthorized: tlsOpts.rejectUnauthorized,
        ca: tlsOpts.ca,
      });
      secure.once('secureConnect', () => {
        secure.off('error', onError);
        resolve(secure);
      });
      const onError = (err: Error) => {
        secure.destroy();
        reject(unreachable(resource, `TLS: ${err.message}`));
      };
      secure.once('error', onError);
    });
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

/** Connects, authenticates and readies the connection for a session, within a deadline. */
export async function openUpstream(target: UpstreamTarget, opts: UpstreamOptions): Promise<UpstreamConnection> {
  return withDeadline(opts, async (track) => {
    const socket = track(await connectUpstreamSocket(target, opts.resource));
    // Signed in under the role's name, not the user's: a pooled connection serves other users of the role later.
    const { puller, parameterStatus, key } = await signIn(socket, target, { ...opts, applicationName: roleApplicationName(opts) });
    return ready(socket, puller, target, opts, parameterStatus, key);
  });
}

/**
 * Readies a warm connection (clean: see upstream-pool.ts) for a new session:
 * the user's application_name, and the search path and catalog facts read
 * afresh, in one round trip.
 */
export async function reuseUpstream(
  conn: Pick<UpstreamConnection, 'socket' | 'parameterStatus' | 'key'>,
  target: UpstreamTarget,
  opts: UpstreamOptions,
): Promise<UpstreamConnection> {
  return withDeadline(opts, async () => {
    const puller = new SocketPuller(conn.socket, new FrameReader({ typed: true, maxLength: Limits.messageBytes }), (why) => unreachable(opts.resource, why));
    conn.socket.resume();
    return ready(conn.socket, puller, target, opts, [...conn.parameterStatus], conn.key);
  });
}

/** The application_name a connection signs in with: the role's, so that RESET in a later session never shows an earlier user. */
export function roleApplicationName(opts: Pick<UpstreamOptions, 'resource' | 'role'>): string {
  return `airlock:${opts.resource}:${opts.role}`.slice(0, 63);
}

async function withDeadline<T extends UpstreamConnection>(opts: UpstreamOptions, work: (track: (s: net.Socket) => net.Socket) => Promise<T>): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  let socket: net.Socket | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unreachable(opts.resource, `no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  const working = work((s) => (socket = s));
  // Work that finishes after the deadline must still close its connection.
  working.then((c) => (timedOut ? c.socket.destroy() : undefined)).catch(() => undefined);
  let timedOut = false;
  try {
    return await Promise.race([working, deadline]);
  } catch (err) {
    timedOut = true;
    socket?.destroy();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** StartupMessage and sign-in, up to the first ReadyForQuery. */
async function signIn(socket: net.Socket, target: UpstreamTarget, opts: UpstreamOptions) {
  const reader = new FrameReader({ typed: true, maxLength: Limits.messageBytes });
  const puller = new SocketPuller(socket, reader, (why) => unreachable(opts.resource, why));
  const params: Record<string, string> = {
    user: target.user,
    database: target.database,
    application_name: opts.applicationName.slice(0, 63),
    client_encoding: 'UTF8',
    // The SQL policy parses text as PostgreSQL does only under these settings: with
    // standard_conforming_strings off, 'a\' , $$ ' ; DELETE … hides a DELETE from the parser.
    options: pinnedSettings(opts),
  };
  socket.write(msg.startupMessage(params));

  await authenticate(socket, puller, target, opts);

  const parameterStatus: Buffer[] = [];
  let key = { pid: 0, secret: 0 };
  for (;;) {
    const frame = await puller.next();
    if (frame.type === Backend.ParameterStatus) parameterStatus.push(Buffer.from(frame.raw));
    else if (frame.type === Backend.BackendKeyData && frame.body.length >= 8) key = { pid: frame.body.readInt32BE(0), secret: frame.body.readInt32BE(4) };
    else if (frame.type === Backend.ErrorResponse) throw startupRefused(frame.body, opts);
    else if (frame.type === Backend.ReadyForQuery) break;
  }
  return { puller, parameterStatus, key };
}

async function ready(
  socket: net.Socket,
  puller: SocketPuller,
  target: UpstreamTarget,
  opts: UpstreamOptions,
  parameterStatus: Buffer[],
  key: UpstreamConnection['key'],
): Promise<UpstreamConnection> {
  const factsKey = catalogKey(target);
  const known = catalogCache.get(factsKey);
  // Every internal query goes out at once: one round trip before the relay starts.
  const queries = [msg.query(`SET application_name TO ${quoteLiteral(opts.applicationName.slice(0, 63))}`), msg.query(SEARCH_PATH_QUERY)];
  if (!known) queries.push(msg.query(CATALOG_QUERY));
  socket.write(Buffer.concat(queries));
  await readSet(puller, opts, parameterStatus);
  const { searchPath, txStatus } = await readSearchPath(puller, opts);
  if (known) return { socket, parameterStatus, key, txStatus, searchPath, catalog: known, rest: puller.detach() };
  const { catalog, txStatus: after } = await readCatalog(puller, opts);
  catalogCache.set(factsKey, catalog);
  return { socket, parameterStatus, key, txStatus: after, searchPath, catalog, rest: puller.detach() };
}

/** Reads a SET's answer, keeping the ParameterStatus it reports (application_name) for the client's greeting. */
async function readSet(puller: SocketPuller, opts: UpstreamOptions, parameterStatus: Buffer[]): Promise<void> {
  for (;;) {
    const frame = await puller.next();
    if (frame.type === Backend.ParameterStatus) noteParameterStatus(parameterStatus, frame.raw);
    else if (frame.type === Backend.ErrorResponse) throw startupRefused(frame.body, opts);
    else if (frame.type === Backend.ReadyForQuery) return;
  }
}

/** Replaces (or adds) the ParameterStatus of the same name. */
export function noteParameterStatus(list: Buffer[], raw: Buffer): void {
  const name = (b: Buffer) => b.toString('utf8', 5, b.indexOf(0, 5));
  const n = name(raw);
  const i = list.findIndex((b) => name(b) === n);
  if (i >= 0) list[i] = Buffer.from(raw);
  else list.push(Buffer.from(raw));
}

/** A SQL string literal (standard_conforming_strings is pinned on: only quotes need doubling); NULs cannot be sent. */
function quoteLiteral(text: string): string {
  return `'${text.replaceAll('\0', '').replaceAll("'", "''")}'`;
}

function pinnedSettings(opts: UpstreamOptions): string {
  const settings = ['-c standard_conforming_strings=on'];
  if (opts.readOnly) settings.push('-c default_transaction_read_only=on');
  if (opts.statementTimeoutSeconds) settings.push(`-c statement_timeout=${opts.statementTimeoutSeconds * 1000}`);
  if (opts.idleInTransactionTimeoutSeconds) settings.push(`-c idle_in_transaction_session_timeout=${opts.idleInTransactionTimeoutSeconds * 1000}`);
  return settings.join(' ');
}

async function authenticate(socket: net.Socket, puller: SocketPuller, target: UpstreamTarget, opts: UpstreamOptions): Promise<void> {
  let scram: ScramClient | null = null;
  const password = target.password ?? '';
  for (;;) {
    const frame = await puller.next();
    if (frame.type === Backend.ErrorResponse) throw startupRefused(frame.body, opts);
    if (frame.type === Backend.NegotiateProtocolVersion) continue;
    if (frame.type !== Backend.Authentication || frame.body.length < 4) {
      throw new PgGatewayError('upstream_protocol', `airlock: the ${opts.resource} upstream sent an unexpected message during sign-in`);
    }
    const code = frame.body.readInt32BE(0);
    const data = frame.body.subarray(4);
    switch (code) {
      case AuthCode.Ok:
        return;
      case AuthCode.CleartextPassword:
        // Anyone on the path could pose as the upstream and ask for the password in clear: send it only to a verified server.
        if (!(target.tls && target.tls.rejectUnauthorized)) {
          throw unsupportedAuth(opts, 'a cleartext password without verified TLS (set upstream.tls and its CA so the password is not readable on the network)');
        }
        socket.write(msg.passwordMessage(password));
        break;
      case AuthCode.MD5Password:
        socket.write(msg.passwordMessage(md5Password(target.user, password, data.subarray(0, 4))));
        break;
      case AuthCode.SASL: {
        const mechanisms = data.toString('utf8').split('\0');
        if (!mechanisms.includes('SCRAM-SHA-256')) throw unsupportedAuth(opts, 'a SASL mechanism other than SCRAM-SHA-256');
        scram = new ScramClient(password);
        socket.write(msg.saslInitialResponse('SCRAM-SHA-256', scram.clientFirst()));
        break;
      }
      case AuthCode.SASLContinue:
        if (!scram) throw unsupportedAuth(opts, 'SASL continue without SASL');
        socket.write(msg.saslResponse(scram.clientFinal(data)));
        break;
      case AuthCode.SASLFinal:
        if (!scram) throw unsupportedAuth(opts, 'SASL final without SASL');
        try {
          scram.verifyServerFinal(data);
        } catch {
          throw new PgGatewayError('upstream_auth_refused', `airlock: the ${opts.resource} upstream failed to prove its identity for role ${opts.role}`);
        }
        break;
      default:
        throw unsupportedAuth(opts, `authentication method ${code}`);
    }
  }
}

/** The upstream's effective search path, so the SQL check resolves unqualified names as the server will. */
export const SEARCH_PATH_QUERY = 'select pg_catalog.current_schemas(true)';

async function readSearchPath(puller: SocketPuller, opts: UpstreamOptions): Promise<{ searchPath: string[]; txStatus: number }> {
  let searchPath: string[] = [];
  for (;;) {
    const frame = await puller.next();
    if (frame.type === Backend.DataRow) searchPath = searchPathFromDataRow(frame.body);
    else if (frame.type === Backend.ErrorResponse) throw startupRefused(frame.body, opts);
    else if (frame.type === Backend.ReadyForQuery) return { searchPath, txStatus: frame.body[0] ?? 0x49 };
  }
}

/**
 * The catalog facts, or an error that refuses the session: without them the
 * policy cannot see user code reached through attribute notation, operators,
 * casts or views, so it must not run on guesswork (fail closed).
 */
async function readCatalog(puller: SocketPuller, opts: UpstreamOptions): Promise<{ catalog: CatalogFacts; txStatus: number }> {
  const parts: string[] = [];
  let failed: PgGatewayError | undefined;
  for (;;) {
    const frame = await puller.next();
    if (frame.type === Backend.DataRow) {
      const text = firstColumn(frame.body);
      if (text === undefined) failed ??= catalogUnreadable(opts, 'it returned an empty answer');
      else parts.push(text);
    } else if (frame.type === Backend.ErrorResponse) {
      failed ??= catalogUnreadable(opts, `it answered with SQLSTATE ${msg.parseErrorFields(frame.body).sqlstate || 'unknown'}`);
    } else if (frame.type === Backend.ReadyForQuery) {
      if (failed !== undefined) throw failed;
      try {
        return { catalog: catalogFromParts(parts), txStatus: frame.body[0] ?? 0x49 };
      } catch (err) {
        if (err instanceof CatalogFormatError) throw catalogUnreadable(opts, err.message);
        throw err;
      }
    }
  }
}

const catalogUnreadable = (opts: UpstreamOptions, why: string) =>
  new PgGatewayError(
    'upstream_protocol',
    `airlock: the gateway could not read the ${opts.resource} upstream's catalog, which the SQL policy needs to check statements for role ${opts.role} (${why}); the session was not opened`,
  );

/** The text of a DataRow's first column; undefined when it is NULL or the row is malformed. */
function firstColumn(body: Buffer): string | undefined {
  if (body.length < 6 || body.readInt16BE(0) < 1) return undefined;
  const len = body.readInt32BE(2);
  if (len < 0 || 6 + len > body.length) return undefined;
  return body.toString('utf8', 6, 6 + len);
}

export function searchPathFromDataRow(body: Buffer): string[] {
  const text = firstColumn(body);
  return text === undefined ? [] : parseTextArray(text);
}

function md5Password(user: string, password: string, salt: Buffer): string {
  const inner = createHash('md5').update(password + user).digest('hex');
  return `md5${createHash('md5').update(Buffer.concat([Buffer.from(inner), salt])).digest('hex')}`;
}

/**
 * The upstream's own text could name internals, so the user gets a short,
 * true sentence; its words (e.g. `role "orders_ro" does not exist`) go to the
 * audit and the server log with the error's `upstreamDetail`.
 */
function startupRefused(body: Buffer, opts: UpstreamOptions): PgGatewayError {
  const e = msg.parseErrorFields(body);
  const detail = `${e.message || 'no message'} (SQLSTATE ${e.sqlstate || 'unknown'})`;
  const code = e.sqlstate.startsWith('28') ? 'upstream_auth_refused' : 'upstream_unreachable';
  return new PgGatewayError(
    code,
    `airlock: the ${opts.resource} upstream rejected Airlock's login for role ${opts.role}; an admin can see why in the audit log (airlock audit list --action upstream.failed)`,
    detail,
  );
}

const unsupportedAuth = (opts: UpstreamOptions, what: string) =>
  new PgGatewayError('upstream_unsupported_auth', `airlock: the ${opts.resource} upstream asked for ${what}, which the gateway does not support`);

/**
 * Ends an upstream backend from a side connection with the same credential
 * (PostgreSQL lets a role terminate its own backends). A cancel stops only
 * the statement running now: one the client pipelined behind it would start
 * next and run on, holding its locks, after the session was cut.
 */
export async function terminateUpstream(target: UpstreamTarget, pid: number, opts: UpstreamOptions): Promise<void> {
  let socket: net.Socket | undefined;
  const timer = setTimeout(() => socket?.destroy(), 5_000);
  try {
    socket = await connectUpstreamSocket(target, opts.resource);
    socket.on('error', () => undefined);
    const { puller } = await signIn(socket, target, { ...opts, readOnly: false, applicationName: `${opts.applicationName}:terminate` });
    socket.write(msg.query(`select pg_terminate_backend(${Math.trunc(pid)})`));
    for (;;) if ((await puller.next()).type === Backend.ReadyForQuery) break;
    socket.end(msg.TERMINATE);
  } catch (err) {
    console.error(`airlock: could not terminate the ${opts.resource} upstream backend of a cut session: ${err instanceof Error ? err.message : String(err)}`);
    socket?.destroy();
  } finally {
    clearTimeout(timer);
  }
}

/** Sends a CancelRequest for an upstream backend; resolves when the upstream has closed that side connection. */
export async function cancelUpstream(target: UpstreamTarget, key: { pid: number; secret: number }, resource: string): Promise<void> {
  let socket: net.Socket;
  try {
    socket = await connectUpstreamSocket(target, resource);
  } catch {
    return;
  }
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => socket.destroy(), 2_000);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.end(msg.cancelRequest(key.pid, key.secret));
  });
}

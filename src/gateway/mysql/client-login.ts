import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { MysqlVerifiers } from '../../core/mysql-verifiers.js';
import { verifySecret } from '../../core/secret.js';
import type { GatewayGrant } from '../kernel/port.js';
import { cachingSha2ScrambleMatches, decryptPassword, type RsaKeyPair } from './auth/caching-sha2.js';
import { nativeScrambleMatches } from './auth/native-password.js';
import { MysqlGatewayError, protocolViolation } from './errors.js';
import { AuthPlugin, CachingSha2, Capability, DEFAULT_COLLATION, GATEWAY_CAPABILITIES, ServerStatus } from './protocol/codes.js';
import { decodeClientHello, decodeHandshakeResponse, encodeAuthMoreData, encodeAuthSwitch, encodeHandshakeV10, type HandshakeResponse } from './protocol/messages.js';
import { PacketChannel } from './protocol/packet-channel.js';
import { SAFE_CHARSETS } from './sql/set-statement.js';

/**
 * The client's side of connection startup: handshake v10, TLS when
 * configured, and the grant secret as the password, checked against the
 * user's active grants on the resource named as the database:
 *
 * - mysql_native_password against SHA1(SHA1(secret));
 * - caching_sha2_password's fast path against SHA256(SHA256(secret)); when
 *   that does not match (or the grant predates those verifiers), full
 *   authentication: the secret itself over TLS, or over plain TCP encrypted
 *   with the gateway's RSA key, checked against the SCRAM verifier; without
 *   either, a refusal that says to use TLS;
 * - any other plugin is switched to mysql_native_password.
 *
 * Ends with an authenticated grant or a thrown MysqlGatewayError that the
 * caller sends as an error packet.
 */

/** A grant with the verifiers MySQL's plugins need (undefined for secrets issued before they existed). */
export interface MysqlGrant extends GatewayGrant {
  readonly mysql?: MysqlVerifiers;
}

export interface ClientLoginDeps {
  activeGrants(user: string, resource: string): Promise<MysqlGrant[]>;
  readonly tlsContext: tls.SecureContext | null;
  /** Refuse clients that do not start TLS (only meaningful with a TLS context). */
  readonly requireTls?: boolean;
  /** The RSA pair for caching_sha2_password on plain TCP; null refuses that exchange (use TLS). */
  rsaKeys(): RsaKeyPair | null;
  readonly maxPayload: number;
  readonly connectionId: number;
  readonly serverVersion: string;
}

export interface ClientLogin {
  readonly channel: PacketChannel;
  readonly socket: net.Socket;
  readonly user: string;
  readonly resource: string;
  readonly grant: MysqlGrant;
  readonly capabilities: number;
  readonly collation: number;
  readonly attributes: ReadonlyMap<string, string>;
  readonly secure: boolean;
}

export class AuthFailure extends MysqlGatewayError {
  constructor(
    readonly user: string,
    readonly resource: string,
    readonly why: string,
  ) {
    super('auth_failed', `airlock: access denied for user '${user}' to ${resource}: no active grant matches this secret (get one with: airlock connect ${resource} --print)`);
  }
}

const lost = (why: string) => protocolViolation(`client connection lost during the handshake (${why})`);

/** 20 bytes in 1..127 without '$' or NUL, as MySQL servers generate them (some clients treat the nonce as a C string). */
function newNonce(): Buffer {
  const b = randomBytes(20);
  for (let i = 0; i < b.length; i++) {
    let c = b[i]! & 0x7f;
    if (c === 0 || c === 0x24) c = 0x41 + (c & 0x0f);
    b[i] = c;
  }
  return b;
}

/** utf8mb4/utf8mb3/latin1/ascii/binary collations keep; anything else (a multi-byte charset like gbk or sjis) becomes utf8mb4. */
export function safeCollation(id: number): { collation: number; charset: string } {
  const charset = COLLATION_CHARSETS.get(id);
  if (charset !== undefined && SAFE_CHARSETS.has(charset)) return { collation: id, charset };
  return { collation: DEFAULT_COLLATION, charset: 'utf8mb4' };
}

const COLLATION_CHARSETS: ReadonlyMap<number, string> = new Map([
  [8, 'latin1'],
  [47, 'latin1'],
  [48, 'latin1'],
  [5, 'latin1'],
  [15, 'latin1'],
  [11, 'ascii'],
  [65, 'ascii'],
  [33, 'utf8mb3'],
  [83, 'utf8mb3'],
  [192, 'utf8mb3'],
  [45, 'utf8mb4'],
  [46, 'utf8mb4'],
  [224, 'utf8mb4'],
  [255, 'utf8mb4'],
  [63, 'binary'],
]);

/** `onSocket` is told when TLS replaces the socket, `onChannel` of each channel (an error packet follows its sequence). */
export async function runClientLogin(raw: net.Socket, deps: ClientLoginDeps, onSocket: (s: net.Socket) => void, onChannel: (c: PacketChannel) => void): Promise<ClientLogin> {
  let socket = raw;
  let channel = new PacketChannel(socket, deps.maxPayload, lost);
  onChannel(channel);
  const nonce = newNonce();
  const offered = GATEWAY_CAPABILITIES | (deps.tlsContext ? Capability.Ssl : 0);
  channel.send(
    encodeHandshakeV10({
      serverVersion: deps.serverVersion,
      connectionId: deps.connectionId,
      nonce,
      capabilities: offered,
      collation: DEFAULT_COLLATION,
      status: ServerStatus.Autocommit,
      // What MySQL 8+ clients default to (MySQL 9 clients have nothing else); clients that answer with native password are accepted too.
      authPlugin: AuthPlugin.CachingSha2,
    }),
  );
  let packet = await channel.read();
  let secure = false;
  const hello = decodeClientHello(packet.payload);
  if (hello.capabilities & Capability.Ssl) {
    if (!deps.tlsContext) throw new MysqlGatewayError('unsupported_client', 'airlock: this gateway does not offer TLS');
    // MySQL clients start TLS without waiting for an answer: bytes after the SSL request are the TLS
    // ClientHello, and go to the TLS layer (never read as packets, which would trust them unencrypted).
    const seq = channel.seq;
    const rest = channel.detachWithRest();
    socket = new tls.TLSSocket(rest.length > 0 ? withBytesFirst(socket, rest) : socket, { isServer: true, secureContext: deps.tlsContext });
    socket.on('error', () => undefined);
    onSocket(socket);
    channel = new PacketChannel(socket, deps.maxPayload, lost);
    channel.seq = seq;
    onChannel(channel);
    secure = true;
    packet = await channel.read();
  } else if (deps.requireTls && deps.tlsContext) {
    throw new MysqlGatewayError('tls_required', 'airlock: this gateway accepts TLS connections only (mysql --ssl, mariadb --ssl)');
  }
  const response = decodeHandshakeResponse(packet.payload);
  const resource = response.database;
  if (!resource) {
    throw new MysqlGatewayError('auth_failed', `airlock: name the resource as the database, e.g. mysql -u ${response.user} -h <gateway> -P <port> <resource>`);
  }
  const grants = await deps.activeGrants(response.user, resource);
  const grant = await authenticate(channel, response, nonce, grants, secure, deps);
  const { collation } = safeCollation(response.collation);
  return {
    channel,
    socket,
    user: response.user,
    resource,
    grant,
    capabilities: response.capabilities & offered,
    collation,
    attributes: response.attributes,
    secure,
  };
}

/** A stream that yields `first`, then whatever `socket` receives: TLS over a socket some of whose bytes were already read. */
function withBytesFirst(socket: net.Socket, first: Buffer): Duplex {
  const stream = new Duplex({
    read: () => void socket.resume(),
    write: (chunk: Buffer, _encoding, done) => void socket.write(chunk, done),
    final: (done) => void socket.end(done),
    destroy: (err, done) => {
      socket.destroy(err ?? undefined);
      done(err);
    },
  });
  stream.push(first);
  socket.on('data', (chunk: Buffer) => {
    if (!stream.push(chunk)) socket.pause();
  });
  socket.on('end', () => stream.push(null));
  socket.on('close', () => stream.destroy());
  socket.on('error', (err) => stream.destroy(err));
  socket.resume();
  return stream;
}

async function authenticate(channel: PacketChannel, response: HandshakeResponse, nonce: Buffer, grants: readonly MysqlGrant[], secure: boolean, deps: ClientLoginDeps): Promise<MysqlGrant> {
  const fail = (why: string) => new AuthFailure(response.user, response.database ?? '', why);
  let plugin = response.capabilities & Capability.PluginAuth ? (response.authPlugin ?? AuthPlugin.NativePassword) : AuthPlugin.NativePassword;
  let scramble = response.authResponse;
  // Another plugin, or none of the data (libmariadb sends none when its plugin is not the one announced): ask again by name.
  if ((plugin !== AuthPlugin.NativePassword && plugin !== AuthPlugin.CachingSha2) || scramble.length === 0) {
    if (plugin !== AuthPlugin.CachingSha2) plugin = AuthPlugin.NativePassword;
    channel.send(encodeAuthSwitch(plugin, Buffer.concat([nonce, Buffer.from([0])])));
    scramble = (await channel.read()).payload;
  }
  if (plugin === AuthPlugin.NativePassword) {
    const grant = grants.find((g) => g.mysql !== undefined && nativeScrambleMatches(scramble, nonce, g.mysql.nativePassword));
    if (!grant) throw fail(grants.some((g) => g.mysql) ? 'mysql_native_password: wrong secret' : 'mysql_native_password: no grant with a MySQL verifier');
    return grant;
  }
  const fast = grants.find((g) => g.mysql !== undefined && cachingSha2ScrambleMatches(scramble, nonce, g.mysql.cachingSha2));
  if (fast) {
    channel.send(encodeAuthMoreData(Buffer.from([CachingSha2.FastAuthSuccess])));
    return fast;
  }
  // The fast path's verifiers are authoritative: a mismatch is a wrong secret. Asking for full
  // authentication anyway would make some clients (libmariadb) send the secret in clear on plain TCP.
  if (grants.length === 0 || grants.some((g) => g.mysql !== undefined)) throw fail('caching_sha2_password: wrong secret');
  // Grants whose secret predates the MySQL verifiers: full authentication, checked against the SCRAM verifiers.
  // libmariadb answers a full-authentication request on plain TCP with the password in clear: never ask it.
  const sendsClearText = response.attributes.get('_client_name') === 'libmariadb';
  if (!secure && (!deps.rsaKeys() || sendsClearText)) {
    throw new MysqlGatewayError('tls_required', 'airlock: this secret needs a TLS connection (--ssl), or issue a new one with airlock connect');
  }
  channel.send(encodeAuthMoreData(Buffer.from([CachingSha2.PerformFullAuth])));
  let reply = (await channel.read()).payload;
  let password: string | null;
  if (secure) {
    const nul = reply.indexOf(0);
    password = (nul < 0 ? reply : reply.subarray(0, nul)).toString('utf8');
  } else {
    const keys = deps.rsaKeys();
    if (!keys) throw new MysqlGatewayError('tls_required', 'airlock: caching_sha2_password needs TLS here for a full authentication: connect with --ssl');
    if (reply.length === 1 && reply[0] === CachingSha2.RequestPublicKey) {
      channel.send(encodeAuthMoreData(Buffer.from(keys.publicKeyPem, 'latin1')));
      reply = (await channel.read()).payload;
    }
    password = reply.length >= 64 ? decryptPassword(reply, nonce, keys.privateKey) : null;
    if (password === null) {
      throw new MysqlGatewayError('tls_required', 'airlock: a password in clear over an unencrypted connection is refused; connect with --ssl or let the client fetch the server RSA key (--get-server-public-key)');
    }
  }
  const grant = password === '' ? undefined : grants.find((g) => verifySecret(password, g.verifier));
  if (!grant) throw fail('caching_sha2_password: wrong secret');
  return grant;
}

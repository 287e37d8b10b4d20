import net from 'node:net';
import tls from 'node:tls';
import { cachingSha2Scramble, encryptPassword } from './auth/caching-sha2.js';
import { ed25519Sign } from './auth/ed25519.js';
import { nativeScramble } from './auth/native-password.js';
import { MysqlGatewayError } from './errors.js';
import { AuthPlugin, CachingSha2, Capability, DEFAULT_COLLATION, Header, RELAYED_CAPABILITIES } from './protocol/codes.js';
import type { Packet } from './protocol/framer.js';
import { decodeAuthSwitch, decodeErr, decodeHandshakeV10, encodeClientHello, encodeHandshakeResponse } from './protocol/messages.js';
import { PacketChannel } from './protocol/packet-channel.js';

/**
 * The gateway's own login to the upstream, with the role's credential,
 * using whatever plugin the upstream asks for: mysql_native_password,
 * caching_sha2_password (MySQL 8: fast path, then the password over TLS or
 * RSA-encrypted), client_ed25519 (MariaDB), mysql_clear_password only over
 * TLS. The gateway never announces CLIENT_LOCAL_FILES, CLIENT_MULTI_STATEMENTS
 * or compression, whatever the client asked.
 */

export interface MysqlUpstreamTarget {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** Never logged, never echoed in an error, never put in an audit record. */
  readonly password?: string;
  readonly tls?: false | { readonly rejectUnauthorized: boolean; readonly ca?: string; readonly servername?: string };
  /**
   * caching_sha2_password over plain TCP: ask the upstream for its RSA key.
   * Off by default, since an unverified key can be a man in the middle's.
   */
  readonly allowPublicKeyRetrieval?: boolean;
}

export interface UpstreamLoginOptions {
  /** The client's capabilities; those in RELAYED_CAPABILITIES are passed on so responses can be relayed as they are. */
  readonly clientCapabilities: number;
  readonly collation?: number;
  readonly maxPayload: number;
  readonly connectTimeoutMs?: number;
  readonly attributes?: ReadonlyMap<string, string>;
}

export interface UpstreamConnection {
  readonly channel: PacketChannel;
  readonly socket: net.Socket;
  /** The upstream's connection (thread) id, for `KILL QUERY` on a side connection. */
  readonly threadId: number;
  readonly serverVersion: string;
  readonly capabilities: number;
  readonly secure: boolean;
}

const BASE_CAPABILITIES =
  Capability.LongPassword |
  Capability.Protocol41 |
  Capability.SecureConnection |
  Capability.Transactions |
  Capability.PluginAuth |
  Capability.PluginAuthLenencData |
  Capability.ConnectWithDb |
  Capability.ConnectAttrs;

const lost = (why: string) => new MysqlGatewayError('upstream_unreachable', `upstream connection lost during login (${why})`);

function connect(target: MysqlUpstreamTarget, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new MysqlGatewayError('upstream_unreachable', `upstream ${target.host}:${target.port} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new MysqlGatewayError('upstream_unreachable', `upstream ${target.host}:${target.port} unreachable (${err.code ?? 'error'})`));
    });
  });
}

function upgrade(socket: net.Socket, target: MysqlUpstreamTarget, options: { rejectUnauthorized: boolean; ca?: string; servername?: string }): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const secured = tls.connect({
      socket,
      rejectUnauthorized: options.rejectUnauthorized,
      ca: options.ca,
      servername: options.servername ?? (net.isIP(target.host) ? undefined : target.host),
    });
    secured.once('secureConnect', () => resolve(secured));
    secured.once('error', (err) => reject(new MysqlGatewayError('upstream_tls_refused', `TLS to upstream ${target.host}:${target.port} failed: ${err.message}`)));
  });
}

/** The auth response for `plugin`; the clear-text plugins only on a secure connection. */
function authResponse(plugin: string, password: string, nonce: Buffer, secure: boolean): Buffer {
  switch (plugin) {
    case AuthPlugin.NativePassword:
      return nativeScramble(password, nonce);
    case AuthPlugin.CachingSha2:
      return cachingSha2Scramble(password, nonce);
    case AuthPlugin.Ed25519:
      return ed25519Sign(password, nonce.subarray(0, 32));
    case AuthPlugin.ClearPassword:
      if (!secure) throw new MysqlGatewayError('upstream_unsupported_auth', 'the upstream asked for a clear-text password over an unencrypted connection; configure TLS for it');
      return Buffer.from(`${password}\0`, 'utf8');
    default:
      throw new MysqlGatewayError('upstream_unsupported_auth', `the upstream asked for auth plugin "${plugin}", which the gateway does not speak`);
  }
}

function refused(packet: Packet): MysqlGatewayError {
  const err = decodeErr(packet.payload);
  return new MysqlGatewayError('upstream_auth_refused', `upstream refused the login: ${err.code} (${err.sqlstate}) ${err.message}`);
}

export async function loginUpstream(target: MysqlUpstreamTarget, opts: UpstreamLoginOptions): Promise<UpstreamConnection> {
  let socket = await connect(target, opts.connectTimeoutMs ?? 10_000);
  try {
    let channel = new PacketChannel(socket, opts.maxPayload, lost);
    const first = await channel.read();
    if (first.payload[0] === Header.Err) throw refused(first);
    const hs = decodeHandshakeV10(first.payload);
    let capabilities = (BASE_CAPABILITIES | (opts.clientCapabilities & RELAYED_CAPABILITIES)) & hs.capabilities;
    capabilities |= Capability.Protocol41 | Capability.SecureConnection;
    if (!(hs.capabilities & Capability.Protocol41)) throw new MysqlGatewayError('upstream_protocol', 'the upstream does not speak protocol 4.1');
    const collation = opts.collation ?? DEFAULT_COLLATION;
    let secure = false;
    if (target.tls) {
      if (!(hs.capabilities & Capability.Ssl)) throw new MysqlGatewayError('upstream_tls_refused', `upstream ${target.host}:${target.port} does not offer TLS`);
      capabilities |= Capability.Ssl;
      channel.send(encodeClientHello({ capabilities, maxPacket: opts.maxPayload, collation }));
      const seq = channel.seq;
      channel.detach();
      socket = await upgrade(socket, target, target.tls);
      channel = new PacketChannel(socket, opts.maxPayload, lost);
      channel.seq = seq;
      secure = true;
    }
    const password = target.password ?? '';
    let plugin = hs.authPlugin;
    let nonce = hs.nonce;
    let response: Buffer;
    try {
      response = authResponse(plugin, password, nonce, secure);
    } catch {
      // An unknown initial plugin: answer with native password; the server switches us if it must.
      plugin = AuthPlugin.NativePassword;
      response = nativeScramble(password, nonce);
    }
    channel.send(
      encodeHandshakeResponse({
        capabilities,
        maxPacket: opts.maxPayload,
        collation,
        user: target.user,
        authResponse: response,
        database: target.database,
        authPlugin: plugin,
        attributes: opts.attributes ?? new Map([['program_name', 'airlock']]),
      }),
    );
    for (;;) {
      const packet = await channel.read();
      const head = packet.payload[0];
      if (head === Header.Ok) break;
      if (head === Header.Err) throw refused(packet);
      if (head === Header.Eof) {
        const sw = decodeAuthSwitch(packet.payload);
        plugin = sw.plugin;
        nonce = sw.data;
        channel.send(authResponse(plugin, password, nonce, secure));
        continue;
      }
      if (head === Header.AuthMoreData && plugin === AuthPlugin.CachingSha2) {
        const step = packet.payload[1];
        if (step === CachingSha2.FastAuthSuccess) continue;
        if (step !== CachingSha2.PerformFullAuth) throw new MysqlGatewayError('upstream_protocol', 'unexpected caching_sha2_password step from the upstream');
        if (secure) {
          channel.send(Buffer.from(`${password}\0`, 'utf8'));
          continue;
        }
        if (!target.allowPublicKeyRetrieval) {
          throw new MysqlGatewayError('upstream_unsupported_auth', 'the upstream needs the password over TLS (caching_sha2_password full authentication); configure TLS for it');
        }
        channel.send(Buffer.from([CachingSha2.RequestPublicKey]));
        const key = await channel.read();
        if (key.payload[0] !== Header.AuthMoreData) throw new MysqlGatewayError('upstream_protocol', 'the upstream did not send its public key');
        channel.send(encryptPassword(password, nonce, key.payload.subarray(1).toString('latin1')));
        continue;
      }
      throw new MysqlGatewayError('upstream_protocol', `unexpected packet 0x${(head ?? 0).toString(16)} during the upstream login`);
    }
    channel.resetSeq();
    return { channel, socket, threadId: hs.connectionId, serverVersion: hs.serverVersion, capabilities, secure };
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

import type net from 'node:net';
import tls from 'node:tls';
import type { ControlPlanePort as GatewayBackend, GatewayGrant } from '../kernel/port.js';
import type { AuthThrottle } from '../../core/auth-throttle.js';
import { holdFailure } from '../kernel/hold-failure.js';
import type { CancelKeys } from './cancel-keys.js';
import { PgGatewayError, protocolViolation } from './errors.js';
import { AuthCode, Frontend, Limits, StartupCode } from './protocol/codes.js';
import * as msg from './protocol/messages.js';
import { startupReader } from './protocol/reader.js';
import { SocketPuller } from './protocol/socket-puller.js';
import { SCRAM_MECHANISM, scramServerFinal, scramServerFirst } from './scram-server.js';

/**
 * The client's side of connection startup: TLS/GSS negotiation, cancel
 * requests, the startup packet, and SCRAM-SHA-256 against the user's active
 * grants on the resource. Ends with an authenticated grant or a thrown
 * PgGatewayError that the caller turns into a FATAL ErrorResponse.
 */

export interface StartupDeps {
  readonly backend: GatewayBackend;
  readonly tlsContext: tls.SecureContext | null;
  readonly cancelKeys: CancelKeys;
  readonly throttle: AuthThrottle;
  readonly nowMs: () => number;
}

export type StartupResult =
  | { readonly kind: 'cancel' }
  | {
      readonly kind: 'authenticated';
      readonly socket: net.Socket;
      readonly user: string;
      readonly resource: string;
      readonly applicationName?: string;
      readonly grant: GatewayGrant;
      /** AuthenticationSASLFinal, to send once the upstream is ready. */
      readonly saslFinal: Buffer;
      /** Client bytes already read past authentication. */
      readonly rest: Buffer;
      /** The client asked for protocol options we do not speak: answer with NegotiateProtocolVersion. */
      readonly negotiate?: Buffer;
    };

const lost = (why: string) => protocolViolation(`client connection lost during startup (${why})`);

interface StartupPacket {
  readonly params: Map<string, string>;
  readonly negotiate?: Buffer;
}

/** `onSocket` is told when TLS replaces the socket, so the caller closes the right one. */
export async function runClientStartup(raw: net.Socket, clientAddress: string, deps: StartupDeps, onSocket: (s: net.Socket) => void): Promise<StartupResult> {
  let socket = raw;
  let puller = new SocketPuller(socket, startupReader(), lost);
  let secured = false;
  for (;;) {
    const frame = await puller.next();
    const code = frame.body.readInt32BE(0);
    if (code === StartupCode.SSLRequest || code === StartupCode.GSSENCRequest) {
      if (secured || frame.body.length !== 4) throw protocolViolation('unexpected encryption request');
      if (code === StartupCode.GSSENCRequest || !deps.tlsContext) {
        socket.write('N');
        continue;
      }
      // Bytes sent before the TLS handshake would be trusted as if encrypted (CVE-2021-23214).
      if (puller.reader.buffered() > 0) throw protocolViolation('received unencrypted data after SSL request');
      puller.detach();
      socket.write('S');
      socket = new tls.TLSSocket(socket, { isServer: true, secureContext: deps.tlsContext });
      socket.on('error', () => undefined);
      onSocket(socket);
      puller = new SocketPuller(socket, startupReader(), lost);
      secured = true;
      continue;
    }
    if (code === StartupCode.CancelRequest) {
      if (frame.body.length === 12) deps.cancelKeys.cancel(frame.body.readInt32BE(4), frame.body.readInt32BE(8));
      puller.detach();
      socket.destroy();
      return { kind: 'cancel' };
    }
    const startup = startupPacket(code, frame.body);
    const user = startup.params.get('user');
    if (!user) throw new PgGatewayError('auth_failed', 'no PostgreSQL user name specified in startup packet');
    const resource = startup.params.get('database') || user;
    const applicationName = startup.params.get('application_name');

    puller.reader.typed = true;
    puller.reader.maxLength = Limits.authMessageBytes;
    const { grant, saslFinal } = await authenticate(socket, puller, { user, resource, clientAddress }, deps);
    return { kind: 'authenticated', socket, user, resource, applicationName, grant, saslFinal, rest: puller.detach(), negotiate: startup.negotiate };
  }
}

function startupPacket(code: number, body: Buffer): StartupPacket {
  const major = code >>> 16;
  const minor = code & 0xffff;
  if (major !== 3) {
    throw new PgGatewayError('unsupported_protocol', `unsupported frontend protocol ${major}.${minor}: server supports 3.0 to 3.0`);
  }
  const params = msg.parseStartupParams(body);
  const unrecognized = [...params.keys()].filter((k) => k.startsWith('_pq_.'));
  const negotiate = minor > 0 || unrecognized.length > 0 ? msg.negotiateProtocolVersion(0, unrecognized) : undefined;
  return { params, negotiate };
}

interface Who {
  readonly user: string;
  readonly resource: string;
  readonly clientAddress: string;
}

async function authenticate(socket: net.Socket, puller: SocketPuller, who: Who, deps: StartupDeps): Promise<{ grant: GatewayGrant; saslFinal: Buffer }> {
  // Nothing is refused before the proof is checked: failures by anyone else must never keep out the secret's owner.
  const { backend, throttle } = deps;
  const { salt, iterations } = backend.scramParameters(who.user, who.resource);
  // Look the grants up while the client computes its proof.
  const grants = backend.activeGrants(who.user, who.resource);
  grants.catch(() => undefined);

  socket.write(msg.authenticationSasl([SCRAM_MECHANISM]));
  const initial = await passwordFrame(puller);
  const [mechanism, off] = msg.readCString(initial, 0);
  if (off + 4 > initial.length) throw protocolViolation('malformed SASLInitialResponse');
  const dataLength = initial.readInt32BE(off);
  if (dataLength < 0 || off + 4 + dataLength !== initial.length) throw protocolViolation('malformed SASLInitialResponse');
  const first = scramServerFirst(mechanism, initial.toString('utf8', off + 4), salt, iterations);
  socket.write(msg.authentication(AuthCode.SASLContinue, first.serverFirst));

  const clientFinal = (await passwordFrame(puller)).toString('utf8');
  const nowMs = deps.nowMs();
  const usable = (await grants).filter(
    (g) => g.expiresAt.getTime() > nowMs && g.verifier.iterations === iterations && g.verifier.salt.equals(salt),
  );
  const result = scramServerFinal(first.state, clientFinal, usable);
  if (!result) {
    const why = usable.length === 0 ? 'no active grant' : 'the secret matched no active grant';
    void backend.authFailed(who.user, who.resource, who.clientAddress, why).catch(() => undefined);
    if (throttle.failed(who.clientAddress, who.user)) {
      void backend.authFailed(who.user, who.resource, who.clientAddress, 'slowed: too many failures from this address; each further failure is answered after a growing delay').catch(() => undefined);
    }
    await holdFailure(socket, throttle.failureDelayMs(who.clientAddress, who.user));
    // Same words whether or not a grant exists: the answer must not reveal who holds access.
    const next = backend.resourceExists?.(who.resource) === false
      ? `there is no postgres resource "${who.resource}" (the database name is the resource); \`airlock resources\` lists what you may request`
      : `no active grant for ${who.user} on ${who.resource}, or the secret is wrong; run \`airlock request ${who.resource}\` to ask for access`;
    throw new PgGatewayError('auth_failed', `password authentication failed for user "${who.user}": ${next}`);
  }
  return { grant: result.match, saslFinal: msg.authentication(AuthCode.SASLFinal, result.serverFinal) };
}

async function passwordFrame(puller: SocketPuller): Promise<Buffer> {
  const frame = await puller.next();
  if (frame.type !== Frontend.Password) throw protocolViolation(`expected SASL response, got message type ${frame.type}`);
  return frame.body;
}

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AuthThrottle } from '../../core/auth-throttle.js';
import type { Clock } from '../../core/clock.js';
import { constantTimeEqual, sha256, verifySecret } from '../../core/secret.js';
import { BrowserPasses } from './browser-passes.js';
import { GatewayError } from '../kernel/errors.js';
import type { GatewaySession, Intent } from '../kernel/gateway-session.js';
import type { GatewayKernel } from '../kernel/kernel.js';
import type { ControlPlanePort, GatewayGrant, SessionEndReason } from '../kernel/port.js';
import { presentedGrant, presentedKey, resourceFromHost, type PresentedGrant } from './grant-credentials.js';
import { HttpSession } from './http-session.js';
import type { AccessRefused, HttpAccess } from './listener.js';
import type { HttpRequestIntent, HttpRequestLog, HttpRequestOutcome } from './request-record.js';

/**
 * HTTP sessions on the kernel. One kernel session per client connection, as
 * for Postgres: the connection signs in with its first request (Basic auth or
 * the browser's grant cookie), every request on it must present the same
 * grant, each request is a statement of that session (`sessions show` lists
 * them in order), and the session ends when the connection closes or the
 * kernel cuts it (revoke, expiry, audit failure).
 */

export interface GrantSessionsOptions {
  readonly port: ControlPlanePort;
  readonly kernel: GatewayKernel;
  readonly clock: Clock;
  /** Resources are served at `<resource>.<publicHost>`. */
  readonly publicHost: string;
  readonly throttle: AuthThrottle;
}

type Refusal = AccessRefused['refused'];

interface Bound {
  readonly resource: string;
  /** presentedKey() of what the connection signed in with. */
  readonly key: Buffer;
  readonly access: HttpAccess;
}

export interface GrantSessions {
  authorize(req: IncomingMessage): Promise<HttpAccess | AccessRefused>;
  /** Checks a user and secret against the resource's active grants (the sign-in page); null when none matches. */
  verify(user: string, secret: string, resource: string, clientAddress: string): Promise<GatewayGrant | Refusal>;
  /** The sign-in page: the secret checked, a browser pass for the grant (the cookie's value), or why not. */
  signInBrowser(user: string, secret: string, resource: string, clientAddress: string): Promise<{ pass: string; grant: GatewayGrant } | Refusal>;
  /** Sign-out: the pass opens nothing any more. */
  signOutBrowser(pass: string): void;
}

const refused = (status: number, code: Refusal['code'], message: string, headers?: Record<string, string>): AccessRefused => ({
  refused: { status, code, message, headers },
});

export function grantSessions(opts: GrantSessionsOptions): GrantSessions {
  const { port, kernel, clock, publicHost, throttle } = opts;
  const passes = new BrowserPasses(() => clock.now());
  // A grant that ends takes its browser passes with it, whether or not a connection of it is open.
  port.onGrantEnded((ended) => passes.dropGrant(ended.grantId));
  const bound = new WeakMap<Duplex, Promise<Bound | AccessRefused>>();
  // PBKDF2 once per grant and secret, not once per connection: keyed by a hash, never the secret itself.
  const verified = new Map<string, true>();

  const noGrant = (user: string, resource: string) =>
    `airlock: no active grant for ${user} on ${resource}, or the secret is wrong; run \`airlock request ${resource}\` to ask for access`;

  async function verify(user: string, secret: string, resource: string, clientAddress: string): Promise<GatewayGrant | Refusal> {
    const nowMs = clock.now().getTime();
    let active: GatewayGrant[];
    try {
      active = await port.activeGrants(user, resource);
    } catch (err) {
      // A fleet node cut off from its store: 503, so the client (or a load balancer) tries another node.
      if (err instanceof GatewayError && err.code === 'store_unavailable') return { status: 503, code: 'http_store_unavailable', message: err.message };
      throw err;
    }
    const grants = active.filter((g) => g.expiresAt.getTime() > nowMs);
    const secretKey = sha256(secret).toString('hex');
    // The secret is checked before the throttle is asked: failures from an address (anyone's) never keep out a right secret.
    const match = grants.find((g) => verified.has(`${g.grantId}:${secretKey}`) || verifySecret(secret, g.verifier));
    const waitMs = match ? 0 : throttle.retryAfterMs(clientAddress, user);
    if (waitMs > 0) {
      void port.authFailed(user, resource, clientAddress, 'refused: too many recent failures from this address').catch(() => undefined);
      return { status: 401, code: 'http_unauthenticated', message: `airlock: too many failed sign-ins for "${user}" from this address; try again in ${Math.ceil(waitMs / 1000)} s` };
    }
    if (!match) {
      const why = grants.length === 0 ? 'no active grant' : 'the secret matched no active grant';
      void port.authFailed(user, resource, clientAddress, why).catch(() => undefined);
      if (throttle.failed(clientAddress, user)) void port.authFailed(user, resource, clientAddress, 'locked out: too many failures from this address').catch(() => undefined);
      // Same words whether or not a grant exists: the answer must not reveal who holds access.
      return { status: 401, code: 'http_unauthenticated', message: noGrant(user, resource) };
    }
    if (verified.size > 10_000) verified.clear();
    verified.set(`${match.grantId}:${secretKey}`, true);
    return match;
  }

  /** The grant a browser pass stands for, if that grant is still active; a pass whose grant ended goes. */
  async function passGrant(pass: string, resource: string): Promise<GatewayGrant | Refusal> {
    const found = passes.find(pass);
    const gone: Refusal = { status: 401, code: 'http_unauthenticated', message: `airlock: this browser's sign-in to ${resource} has ended (grant ended, signed out, or the gateway restarted); sign in again at /.airlock/sign-in` };
    if (!found || found.resource !== resource) return gone;
    const nowMs = clock.now().getTime();
    const grant = (await port.activeGrants(found.user, resource)).find((g) => g.grantId === found.grantId && g.expiresAt.getTime() > nowMs);
    if (!grant) {
      passes.dropGrant(found.grantId);
      return gone;
    }
    passes.seen(found, grant.expiresAt);
    return grant;
  }

  async function signIn(req: IncomingMessage, presented: PresentedGrant, resource: string): Promise<Bound | AccessRefused> {
    const socket = req.socket;
    const clientAddress = socket.remoteAddress ?? 'unknown';
    const grant = presented.via === 'cookie' ? await passGrant(presented.pass, resource) : await verify(presented.user, presented.secret, resource, clientAddress);
    if (!('grantId' in grant)) {
      // A browser's pass failing gets no Basic challenge: the sign-in page is its way in, not a native prompt.
      if (presented.via === 'basic') return { refused: { ...grant, headers: basicChallenge(resource) } };
      const navigation = req.method === 'GET' && /text\/html/.test(req.headers.accept ?? '');
      return navigation ? refused(303, 'http_unauthenticated', grant.message, { location: '/.airlock/sign-in' }) : { refused: grant };
    }
    const access = await port.access(grant.grantId);
    if (access.resource.kind !== 'http' || !access.role.http) return refused(403, 'http_not_allowed', `airlock: ${resource} is not an http resource`);
    const session = new HttpSession(grant.grantId, resource, access.role.name);
    const inFlight = new InFlight();
    const cut = (reason: SessionEndReason, message: string) => {
      // The grant is over: its browser passes go now, not at their next use.
      if (reason === 'expired' || reason === 'revoked' || reason === 'released') passes.dropGrant(grant.grantId);
      session.cut(message);
    };
    const ks = kernel.session({ cut, settled: () => inFlight.settled() }, clientAddress);
    try {
      const agent = String(req.headers['user-agent'] ?? presented.via).slice(0, 64);
      if (!(await ks.begin(grant, agent))) return refused(403, 'http_session_ended', session.endMessage ?? 'airlock: the session ended while signing in');
    } catch (err) {
      ks.end('error');
      if (err instanceof GatewayError) return refused(err.code === 'store_unavailable' ? 503 : 401, err.code === 'store_unavailable' ? 'http_store_unavailable' : 'http_unauthenticated', err.message);
      throw err;
    }
    // One kernel session per connection: it ends when the connection does.
    if (socket.destroyed) ks.end('client');
    else socket.once('close', () => ks.end('client'));
    return {
      resource,
      key: Buffer.from(presentedKey(presented)),
      access: { resource: access.resource, role: access.role, session, log: kernelLog(ks, inFlight), credentialValue: access.password },
    };
  }

  return {
    verify,
    async signInBrowser(user, secret, resource, clientAddress) {
      const grant = await verify(user, secret, resource, clientAddress);
      if (!('grantId' in grant)) return grant;
      return { grant, pass: passes.issue({ grantId: grant.grantId, user, resource, expiresAt: grant.expiresAt }) };
    },
    signOutBrowser: (pass) => passes.drop(pass),
    async authorize(req) {
      const resource = resourceFromHost(req.headers.host, publicHost);
      if (!resource) {
        return refused(404, 'http_not_found', `airlock: this gateway serves each http resource at <resource>.${publicHost}; the Host header names none`);
      }
      const presented = presentedGrant(req);
      if (!presented && req.method === 'GET' && /text\/html/.test(req.headers.accept ?? '')) {
        // A browser arriving without its grant cookie: to the gateway's own sign-in page, not a native password prompt.
        return refused(303, 'http_unauthenticated', `airlock: sign in to ${resource} first`, { location: '/.airlock/sign-in' });
      }
      if (!presented) {
        return refused(401, 'http_unauthenticated', `airlock: sign in to ${resource} with your Airlock user name and grant secret (\`airlock connect ${resource}\` does it for you, or open /.airlock/sign-in)`, basicChallenge(resource));
      }
      const crossSite = crossSiteUse(req, presented);
      if (crossSite) return refused(403, 'http_not_allowed', crossSite);
      let pending = bound.get(req.socket);
      if (!pending) {
        pending = signIn(req, presented, resource);
        bound.set(req.socket, pending);
        // A refused sign-in does not bind the connection: the next request may present another grant.
        void pending.then((b) => 'refused' in b && bound.delete(req.socket), () => bound.delete(req.socket));
        const b = await pending;
        return 'refused' in b ? b : b.access;
      }
      const b = await pending;
      if ('refused' in b) return b;
      if (b.resource !== resource || !constantTimeEqual(b.key, Buffer.from(presentedKey(presented)))) {
        return refused(401, 'http_unauthenticated', 'airlock: a connection stays with the grant it signed in with; open a new connection for another');
      }
      return b.access;
    },
  };
}

/**
 * Every resource's origin is a subdomain of one public host, so they are one
 * "site" to a browser, and SameSite cookies travel between them: a page of
 * one upstream could make the browser send requests, with the grant cookie,
 * to another. A cookie is therefore honoured only for requests the
 * resource's own pages make (Sec-Fetch-Site same-origin), ones the user makes
 * (none), and top-level GET navigations (a link from the dashboard).
 */
function crossSiteUse(req: IncomingMessage, presented: PresentedGrant): string | null {
  if (presented.via !== 'cookie') return null;
  const site = req.headers['sec-fetch-site'];
  if (site === undefined || site === 'same-origin' || site === 'none') return null;
  const navigation = req.headers['sec-fetch-mode'] === 'navigate' && (req.method === 'GET' || req.method === 'HEAD');
  return navigation ? null : `airlock: a ${site} ${req.method} request does not get the grant cookie; only this resource's own pages may send it`;
}

function basicChallenge(resource: string): Record<string, string> {
  return { 'www-authenticate': `Basic realm="airlock ${resource}", charset="UTF-8"` };
}

/** Counts requests forwarded and not yet answered, so the end record waits for their outcomes. */
class InFlight {
  private count = 0;
  private waiters: (() => void)[] = [];
  add(): void {
    this.count++;
  }
  done(): void {
    if (--this.count === 0) this.waiters.splice(0).forEach((w) => w());
  }
  settled(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

/** A request as the audit shows it: method, canonical path, query with values redacted per the role. */
export function requestText(r: HttpRequestIntent): string {
  return `${r.websocket ? 'WEBSOCKET' : r.method} ${r.path}${r.query === null ? '' : `?${r.query}`}`;
}

function kernelLog(ks: GatewaySession, inFlight: InFlight): HttpRequestLog {
  return {
    async intent(intent) {
      const behind = ks.holdForAudit();
      if (behind) await behind;
      const recorded = ks.intend(requestText(intent));
      // Null: it could not be put on record and the kernel is cutting the session; nothing is forwarded.
      if (!recorded) throw new Error('the request could not be put on record');
      inFlight.add();
      return recorded;
    },
    outcome(o, intent) {
      ks.countIn(o.requestBytes);
      ks.countOut(o.responseBytes);
      ks.record(
        {
          text: requestText(o),
          outcome: outcomeOf(o),
          commandTag: o.status === null ? undefined : String(o.status),
          sqlstate: o.status === null ? undefined : String(o.status),
          reason: o.refusal ?? (o.ended === 'complete' ? undefined : o.ended),
          durationMs: o.durationMs,
          extra: {
            status: o.status,
            rule: o.rule,
            bytes_in: o.requestBytes,
            bytes_out: o.responseBytes,
            ...(o.websocket ? { websocket: true } : {}),
            ...(o.ended !== 'complete' ? { ended: o.ended } : {}),
            ...(o.body ? { body: o.body } : {}),
          },
        },
        (intent as Intent | null) ?? undefined,
      );
      if (intent) inFlight.done();
    },
  };
}

function outcomeOf(o: HttpRequestOutcome): 'ok' | 'error' | 'refused' | 'unknown' {
  if (o.refused) return 'refused';
  // Forwarded and never answered: it may or may not have run upstream.
  if (o.status === null) return 'unknown';
  return o.status < 400 ? 'ok' : 'error';
}

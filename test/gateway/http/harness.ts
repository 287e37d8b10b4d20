import type { IncomingMessage } from 'node:http';
import type { HttpScope, Resource, Role } from '../../../src/core/model.js';
import { HttpSession } from '../../../src/gateway/http/http-session.js';
import { createHttpGateway, type AccessRefused, type HttpAccess, type HttpGateway } from '../../../src/gateway/http/listener.js';
import { credentialVariable } from '../../../src/gateway/http/upstream-credential.js';
import type { HttpRequestIntent, HttpRequestLog, HttpRequestOutcome } from '../../../src/gateway/http/request-record.js';

/**
 * An HTTP gateway in front of a real upstream, before the kernel is wired:
 * the caller says which role each request is under by Basic auth user name
 * (`role:anything`), as phase 2's grant authentication will; each role has
 * one session the test can cut. The log keeps every record in order.
 */

export interface RecordedLog {
  /** The log one session writes to. */
  of(session: string): HttpRequestLog;
  readonly intents: { session: string; intent: HttpRequestIntent }[];
  readonly outcomes: { session: string; outcome: HttpRequestOutcome }[];
  /** Replace to hold or fail the write-ahead record. */
  holdIntent: ((intent: HttpRequestIntent) => Promise<void>) | null;
  /** Resolves at the next outcome recorded. */
  nextOutcome(): Promise<HttpRequestOutcome>;
}

export function recordedLog(): RecordedLog {
  const waiters: ((o: HttpRequestOutcome) => void)[] = [];
  const log: RecordedLog = {
    intents: [],
    outcomes: [],
    holdIntent: null,
    of: (session) => ({
      async intent(intent) {
        if (log.holdIntent) await log.holdIntent(intent);
        log.intents.push({ session, intent });
        return intent.seq;
      },
      outcome(outcome, intent) {
        if (intent !== null && intent !== outcome.seq) throw new Error('an outcome must come back with its own intent');
        log.outcomes.push({ session, outcome });
        waiters.splice(0).forEach((w) => w(outcome));
      },
    }),
    nextOutcome: () => new Promise((resolve) => waiters.push(resolve)),
  };
  return log;
}

export interface Harness {
  readonly gateway: HttpGateway;
  readonly url: string;
  readonly port: number;
  readonly log: RecordedLog;
  session(role: string): HttpSession;
  /** A fresh session for the role (after a cut), as a new grant would give. */
  renew(role: string): HttpSession;
  /** `Authorization` header value choosing a role. */
  auth(role: string): string;
  close(): Promise<void>;
}

export function httpRole(name: string, scope: Partial<HttpScope> & Pick<HttpScope, 'allow'>): Role {
  return { name, allow: [], http: { deny: [], auditQueryValues: [], ...scope } };
}

export function httpResource(name: string, url: string, roles: Role[], encodedSlash: 'segment' | 'refuse' = 'segment'): Resource {
  const u = new URL(url);
  return {
    name,
    kind: 'http',
    upstream: { host: u.hostname, port: Number(u.port), url, encodedSlash, tls: u.protocol === 'https:' },
    labels: {},
    roles: new Map(roles.map((r) => [r.name, r])),
  };
}

export async function startHarness(resource: Resource, env: NodeJS.ProcessEnv = {}): Promise<Harness> {
  const log = recordedLog();
  const sessions = new Map<string, HttpSession>();
  const session = (role: string) => {
    let s = sessions.get(role);
    if (!s) sessions.set(role, (s = new HttpSession(`s-${role}`, resource.name, role)));
    return s;
  };
  const authorize = async (req: IncomingMessage): Promise<HttpAccess | AccessRefused> => {
    // A browser presents its grant as a cookie (phase 2: signed by the dashboard); scripts use Basic auth.
    const cookie = /(?:^|;\s*)airlock_grant=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    const header = req.headers.authorization ?? '';
    const roleName = cookie ?? Buffer.from(header.replace(/^Basic /, ''), 'base64').toString().split(':')[0]!;
    const role = resource.roles.get(roleName);
    if (!role) return { refused: { status: 401, code: 'http_unauthenticated' as const, message: 'airlock: no grant presented', headers: { 'www-authenticate': 'Basic realm="airlock"' } } };
    const s = session(roleName);
    const credential = role.http?.credential;
    const credentialValue = credential ? env[credentialVariable(credential)] : undefined;
    return { resource, role, session: s, log: log.of(s.id), credentialValue };
  };
  const gateway = createHttpGateway({ authorize, airlockCookies: ['airlock_grant', 'airlock_session'] });
  const address = await gateway.listen(0, '127.0.0.1');
  return {
    gateway,
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    log,
    session,
    renew: (role) => {
      sessions.delete(role);
      return session(role);
    },
    auth: (role) => `Basic ${Buffer.from(`${role}:grant-secret`).toString('base64')}`,
    close: () => gateway.close(),
  };
}

import { AuthThrottle } from '../../core/auth-throttle.js';
import { auditTextFor } from '../kernel/audit-text.js';
import { createGatewayKernel } from '../kernel/kernel.js';
import type { GatewayAdapter } from '../registry.js';
import { GRANT_COOKIE } from './grant-credentials.js';
import { grantSessions } from './grant-sessions.js';
import { createHttpGateway } from './listener.js';
import { REDACTED } from './query-redaction.js';
import { signInPages } from './sign-in-page.js';

interface HttpSection {
  readonly public_host?: string;
}

/** Dashboard session cookie: on the same host name it would reach the gateway too, and must go no further. */
const DASHBOARD_COOKIE = 'airlock_session';

/** `audit.statements: redacted` keeps the method, path and query names; every query value goes. */
export function redactHttpText(text: string): string {
  const q = text.indexOf('?');
  if (q < 0) return text;
  const query = text
    .slice(q + 1)
    .split('&')
    .map((p) => (p.includes('=') ? `${p.slice(0, p.indexOf('='))}=${REDACTED}` : p === '' ? '' : REDACTED))
    .join('&');
  return `${text.slice(0, q)}?${query}`;
}

/** The HTTP gateway as the registry starts it (`gateway.http` in airlock.yaml). */
export const httpAdapter: GatewayAdapter = {
  kind: 'http',
  async start(s) {
    const publicHost = (s.config as HttpSection).public_host ?? 'localhost';
    const kernel = createGatewayKernel({ port: s.port, clock: s.clock, auditText: auditTextFor(s.statementText, redactHttpText) });
    const sessions = grantSessions({ port: s.port, kernel, clock: s.clock, publicHost, throttle: new AuthThrottle({ now: () => s.clock.now().getTime() }) });
    const gateway = createHttpGateway({
      authorize: (req) => sessions.authorize(req),
      ownPaths: signInPages(sessions, publicHost),
      airlockCookies: [GRANT_COOKIE, DASHBOARD_COOKIE],
      now: () => s.clock.now(),
    });
    const address = await gateway.listen(s.listen.port, s.listen.host);
    return {
      kind: 'http',
      address: () => ({ host: address.address, port: address.port }),
      sessions: () => kernel.sessions(),
      describe: () => `http gateway listening on ${address.address}:${address.port} (each resource at http://<resource>.${publicHost}:${address.port}/)`,
      async close() {
        await kernel.shutdown('airlock: the gateway is shutting down');
        await gateway.close();
      },
    };
  },
};

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AuthThrottle } from '../../core/auth-throttle.js';
import { auditTextFor } from '../kernel/audit-text.js';
import { createGatewayKernel } from '../kernel/kernel.js';
import { gatewayPems, type GatewayTls } from '../postgres/tls-config.js';
import type { GatewayAdapter } from '../registry.js';
import { GRANT_COOKIE } from './grant-credentials.js';
import { grantSessions } from './grant-sessions.js';
import { createHttpGateway } from './listener.js';
import { REDACTED } from './query-redaction.js';
import { signInPages } from './sign-in-page.js';

interface HttpSection {
  readonly public_host?: string;
  readonly tls?: 'self-signed' | { readonly cert: string; readonly key: string };
}

/** Certificate and key read from their files (relative to the config's folder), or `self-signed`. */
function sectionTls(section: HttpSection, baseDir: string): GatewayTls | undefined {
  const tls = section.tls;
  if (!tls || tls === 'self-signed') return tls;
  return { cert: readFileSync(resolve(baseDir, tls.cert), 'utf8'), key: readFileSync(resolve(baseDir, tls.key), 'utf8') };
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
    const section = s.config as HttpSection;
    const publicHost = section.public_host ?? 'localhost';
    // A generated certificate names every resource's origin: <resource>.<public_host>.
    const tls = await gatewayPems(sectionTls(section, s.baseDir), [publicHost, `*.${publicHost}`]);
    const scheme = tls ? 'https' : 'http';
    const kernel = createGatewayKernel({ port: s.port, clock: s.clock, auditText: auditTextFor(s.statementText, redactHttpText) });
    const sessions = grantSessions({ port: s.port, kernel, clock: s.clock, publicHost, throttle: new AuthThrottle({ now: () => s.clock.now().getTime() }) });
    const gateway = createHttpGateway({
      authorize: (req) => sessions.authorize(req),
      ownPaths: signInPages(sessions, publicHost),
      airlockCookies: [GRANT_COOKIE, DASHBOARD_COOKIE],
      tls,
      now: () => s.clock.now(),
    });
    const address = await gateway.listen(s.listen.port, s.listen.host);
    return {
      kind: 'http',
      address: () => ({ host: address.address, port: address.port }),
      sessions: () => kernel.sessions(),
      describe: () => `http gateway listening on ${address.address}:${address.port} (each resource at ${scheme}://<resource>.${publicHost}:${address.port}/)`,
      async close() {
        await kernel.shutdown('airlock: the gateway is shutting down');
        await gateway.close();
      },
    };
  },
};

import type { IncomingMessage } from 'node:http';

/**
 * Where an HTTP client says who it is and which resource it wants. The
 * resource is the first label of Host (`rabbit-admin.localhost:15480`): each
 * resource is an origin of its own, so the upstream's absolute links, its
 * cookies and its scripts stay separate from every other resource's and from
 * the dashboard's. The grant is proved with Basic auth (user = the Airlock
 * user, password = the grant secret) by scripts and `airlock connect`, or
 * with the host-only cookie the gateway's sign-in page sets for a browser.
 */

/** The browser's grant cookie: host-only, HttpOnly, so one resource's pages never see another's. */
export const GRANT_COOKIE = 'airlock_grant';

export interface PresentedGrant {
  readonly user: string;
  readonly secret: string;
  readonly via: 'basic' | 'cookie';
}

/** The resource a Host header names under `publicHost`, or null when it names none. */
export function resourceFromHost(host: string | undefined, publicHost: string): string | null {
  if (!host) return null;
  const name = host.toLowerCase().replace(/:\d+$/, '');
  const suffix = `.${publicHost.toLowerCase()}`;
  if (!name.endsWith(suffix)) return null;
  const label = name.slice(0, -suffix.length);
  return /^[a-z0-9][a-z0-9_.-]*$/.test(label) && !label.includes('.') ? label : null;
}

/**
 * The grant a request presents: the sign-in cookie when there is one (a
 * browser, whose upstream UI may set its own Authorization header, e.g.
 * RabbitMQ's login form), else Basic auth (scripts, `airlock connect`).
 */
export function presentedGrant(req: IncomingMessage): PresentedGrant | null {
  const cookie = cookieValue(req.headers.cookie, GRANT_COOKIE);
  const fromCookie = cookie ? userSecret(Buffer.from(cookie, 'base64url').toString('utf8'), 'cookie') : null;
  if (fromCookie) return fromCookie;
  const auth = req.headers.authorization;
  if (auth && /^basic /i.test(auth)) return userSecret(Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8'), 'basic');
  return null;
}

function userSecret(decoded: string, via: PresentedGrant['via']): PresentedGrant | null {
  const colon = decoded.indexOf(':');
  return colon > 0 ? { user: decoded.slice(0, colon), secret: decoded.slice(colon + 1), via } : null;
}

export function grantCookieValue(user: string, secret: string): string {
  return Buffer.from(`${user}:${secret}`).toString('base64url');
}

function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

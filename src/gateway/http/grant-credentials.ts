import type { IncomingMessage } from 'node:http';

/**
 * Where an HTTP client says who it is and which resource it wants. The
 * resource is the first label of Host (`rabbit-admin.localhost:15480`): each
 * resource is an origin of its own, so the upstream's absolute links, its
 * cookies and its scripts stay separate from every other resource's and from
 * the dashboard's. The grant is proved with Basic auth (user = the Airlock
 * user, password = the grant secret) by scripts and `airlock connect`, or
 * with the host-only cookie the gateway's sign-in page sets for a browser,
 * which carries an opaque pass bound to the grant, never the secret.
 */

/** The browser's grant cookie (its pass): host-only, HttpOnly, so one resource's pages never see another's. */
export const GRANT_COOKIE = 'airlock_grant';

export type PresentedGrant =
  | { readonly via: 'basic'; readonly user: string; readonly secret: string }
  /** The browser's pass (browser-passes.ts): opaque, never the grant secret. */
  | { readonly via: 'cookie'; readonly pass: string };

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
 * The grant a request presents: the sign-in cookie's pass when there is one
 * (a browser, whose upstream UI may set its own Authorization header, e.g.
 * RabbitMQ's login form), else Basic auth (scripts, `airlock connect`).
 */
export function presentedGrant(req: IncomingMessage): PresentedGrant | null {
  const pass = cookieValue(req.headers.cookie, GRANT_COOKIE);
  if (pass) return { via: 'cookie', pass };
  const auth = req.headers.authorization;
  if (!auth || !/^basic /i.test(auth)) return null;
  const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 ? { via: 'basic', user: decoded.slice(0, colon), secret: decoded.slice(colon + 1) } : null;
}

/** What a connection signed in with, to hold its later requests to the same grant: the pass, or user and secret. */
export function presentedKey(p: PresentedGrant): string {
  return p.via === 'cookie' ? `cookie\n${p.pass}` : `basic\n${p.user}\n${p.secret}`;
}

function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { GRANT_COOKIE, presentedGrant, resourceFromHost } from './grant-credentials.js';
import type { GrantSessions } from './grant-sessions.js';

/**
 * The gateway's own pages, under `/.airlock/` on each resource's origin and
 * never forwarded: a sign-in form for browsers (user name and grant secret,
 * as `airlock connect --print` shows them) that sets the resource's grant
 * cookie, and sign-out. The cookie holds an opaque pass bound to the grant
 * (browser-passes.ts), never the secret; it is host-only and HttpOnly (and
 * Secure when the gateway serves TLS): the upstream's pages cannot read it,
 * no other resource receives it, and the gateway strips it before forwarding.
 */

const MAX_FORM_BYTES = 4096;

export function signInPages(sessions: GrantSessions, publicHost: string): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '').split('?')[0]!.toLowerCase().replace(/^\/%2eairlock/, '/.airlock');
    const resource = resourceFromHost(req.headers.host, publicHost);
    if (!resource) return page(res, 404, 'No such resource', `<p>This gateway serves each resource at &lt;resource&gt;.${escape(publicHost)}.</p>`);
    const secure = (req.socket as TLSSocket).encrypted === true ? '; Secure' : '';
    if (path === '/.airlock/sign-out') {
      const presented = presentedGrant(req);
      if (presented?.via === 'cookie') sessions.signOutBrowser(presented.pass);
      res.setHeader('set-cookie', `${GRANT_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure}`);
      return page(res, 200, 'Signed out', `<p>Signed out of ${escape(resource)}.</p>`);
    }
    if (path !== '/.airlock/sign-in') return page(res, 404, 'Not found', '<p>No such gateway page.</p>');
    if (req.method === 'GET') return page(res, 200, `Sign in to ${resource}`, form(resource, ''));
    if (req.method !== 'POST') return page(res, 405, 'Method not allowed', '<p>Use the form.</p>');
    // A form posted from another origin (login CSRF) is refused: only this origin's own page may sign in.
    const origin = req.headers.origin;
    if (origin !== undefined && new URL(origin).host !== req.headers.host) return page(res, 403, 'Refused', '<p>The form must be sent from this page.</p>');
    void readForm(req).then(async (fields) => {
      const user = fields.get('user') ?? '';
      const secret = fields.get('secret') ?? '';
      const signedIn = await sessions.signInBrowser(user, secret, resource, req.socket.remoteAddress ?? 'unknown');
      if (!('pass' in signedIn)) return page(res, 401, `Sign in to ${resource}`, form(resource, signedIn.message));
      // A session cookie: the pass's life is the grant's, kept on the gateway, which an extension moves.
      res.setHeader('set-cookie', `${GRANT_COOKIE}=${signedIn.pass}; Path=/; HttpOnly; SameSite=Lax${secure}`);
      res.writeHead(303, { location: '/', 'cache-control': 'no-store' }).end();
    }, () => page(res, 400, 'Bad request', '<p>The form could not be read.</p>'));
  };
}

function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_FORM_BYTES) return req.destroy(new Error('form too large'));
      chunks.push(c);
    });
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

function form(resource: string, problem: string): string {
  return (
    (problem ? `<p role="alert">${escape(problem)}</p>` : '') +
    `<form method="post" action="/.airlock/sign-in">` +
    `<p><label>Airlock user <input name="user" autocomplete="username" required></label></p>` +
    `<p><label>Grant secret <input name="secret" type="password" autocomplete="current-password" required></label></p>` +
    `<p><button type="submit">Open ${escape(resource)}</button></p></form>` +
    `<p>The secret is the one <code>airlock connect ${escape(resource)} --print</code> shows.</p>`
  );
}

function page(res: ServerResponse, status: number, title: string, body: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-frame-options': 'DENY', 'content-security-policy': "default-src 'none'; form-action 'self'" });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)} · Airlock</title></head><body><h1>${escape(title)}</h1>${body}</body></html>\n`);
}

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

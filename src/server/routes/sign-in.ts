import { randomBytes } from 'node:crypto';
import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { randomNonce, randomPKCECodeVerifier, randomState } from 'openid-client';
import { z } from 'zod';
import { AuthThrottle } from '../../core/auth-throttle.js';
import { AirlockError, invalid } from '../../core/errors.js';
import { constantTimeEqual, sha256 } from '../../core/secret.js';
import { setPageHeaders } from '../../web/security-headers.js';
import { readBody } from '../body.js';
import type { ApiEnv, ControlPlane } from '../context.js';
import type { DeviceStart } from '../identity-provider.js';
import { isHttps, setSessionCookie } from '../session-cookie.js';
import type { SignIn, SignedIn } from '../sign-in.js';

/** Binds a dashboard sign-in to the browser that started it (login CSRF). Lax: it must come back on the provider's redirect. */
const STATE_COOKIE = 'airlock_oidc_state';
const PENDING_MS = 10 * 60_000;
const HANDOFF_MS = 2 * 60_000;

interface Pending {
  readonly kind: 'dashboard' | 'cli';
  readonly codeVerifier: string;
  readonly nonce: string;
  readonly redirectUri: string;
  readonly at: number;
  readonly loginId?: string;
  readonly port?: number;
  readonly keyHash?: Buffer;
}

interface Handoff {
  readonly keyHash: Buffer;
  readonly at: number;
  handoffHash?: Buffer;
  device?: DeviceStart;
  result?: SignedIn;
  error?: AirlockError;
}

const cliStart = z.object({ port: z.number().int().min(1024).max(65535), key: z.string().min(32).max(100) });
const cliFinish = z.object({ login_id: z.string().min(1).max(100), handoff: z.string().min(1).max(100), key: z.string().min(32).max(100) });
const deviceStart = z.object({ key: z.string().min(32).max(100) });
const devicePoll = z.object({ login_id: z.string().min(1).max(100), key: z.string().min(32).max(100) });

const sameHash = (text: string, hash: Buffer | undefined) => hash !== undefined && constantTimeEqual(sha256(text), hash);

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function signedInView(s: SignedIn) {
  return { token: s.token, user: s.user.name, groups: s.user.groups, expires_at: s.expiresAt.toISOString() };
}

/**
 * Sign-in through the OpenID Provider. Dashboard: `/auth/oidc/start` →
 * provider → `/auth/oidc/callback`, which sets the session cookie. CLI
 * (loopback): `airlock login` listens on 127.0.0.1, asks `/auth/cli/start`
 * for the provider URL; the provider returns to this server (the only
 * redirect URI registered), which hands the CLI a one-time code on its
 * loopback port, redeemable only with the key the CLI started with. Device:
 * `/auth/device/start` and `/auth/device/poll`. The provider's answers are
 * checked by openid-client; refusals are audited and grant nothing.
 */
export function signInRoutes(cp: ControlPlane) {
  const app = new Hono<ApiEnv>();
  // Refused sign-ins are audited; an address that keeps failing is held off without writing more (no audit flood).
  const throttle = new AuthThrottle({ now: () => cp.clock.now().getTime(), maxFailures: 10, windowMs: 60_000, lockoutMs: 5 * 60_000 });
  const pending = new Map<string, Pending>();
  const handoffs = new Map<string, Handoff>();

  const signIn = (): SignIn => {
    const s = cp.identity.signIn;
    if (!s) throw new AirlockError('oidc_not_configured', 'not_found', 'this Airlock has no identity provider configured (identity.oidc); sign in with an API token');
    return s;
  };
  const base = (c: Context) => (cp.identity.publicUrl ?? new URL(c.req.url).origin).replace(/\/+$/, '');
  const address = (c: Context) => {
    try {
      return getConnInfo(c).remote.address ?? 'unknown';
    } catch {
      return 'in-process';
    }
  };

  function sweep(): void {
    const now = Date.now();
    for (const [k, p] of pending) if (now - p.at > PENDING_MS) pending.delete(k);
    for (const [k, h] of handoffs) if (now - h.at > PENDING_MS) {
      h.device?.cancel();
      handoffs.delete(k);
    }
  }

  async function begin(c: Context, p: Omit<Pending, 'codeVerifier' | 'nonce' | 'redirectUri' | 'at'>): Promise<{ state: string; url: URL }> {
    sweep();
    const state = randomState();
    const entry: Pending = { ...p, codeVerifier: randomPKCECodeVerifier(), nonce: randomNonce(), redirectUri: `${base(c)}/auth/oidc/callback`, at: Date.now() };
    const url = await signIn().provider.authorizationUrl({ redirectUri: entry.redirectUri, state, nonce: entry.nonce, codeVerifier: entry.codeVerifier });
    pending.set(state, entry);
    return { state, url };
  }

  /** Audits a refusal unless this address is locked out for failing too often; either way the refusal is answered. */
  async function refuse(c: Context, err: unknown, kind: 'dashboard' | 'cli' | 'device' | 'callback'): Promise<AirlockError> {
    const from = address(c);
    const waitMs = throttle.retryAfterMs(from, 'oidc');
    if (waitMs > 0) return new AirlockError('too_many_failures', 'rate_limited', `too many refused sign-ins from ${from}; try again in ${Math.ceil(waitMs / 1000)}s`);
    throttle.failed(from, 'oidc');
    return signIn().refused(err, kind, from);
  }

  function failurePage(c: Context, err: AirlockError) {
    setPageHeaders(c);
    const status = err.kind === 'unavailable' ? 503 : err.kind === 'invalid' ? 400 : err.kind === 'rate_limited' ? 429 : 401;
    return c.html(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Airlock: sign-in refused</title><link rel="stylesheet" href="/assets/dashboard.css"></head>` +
        `<body><div class="signin-page"><p class="brand">Airlock</p><h1>Sign-in refused</h1><p role="alert" class="form-error" data-code="${escapeHtml(err.code)}">${escapeHtml(err.message)}</p>` +
        `<p><a href="/">Back to the sign-in page</a></p></div></body></html>`,
      status,
    );
  }

  app.get('/oidc', (c) => c.json({ enabled: Boolean(cp.identity.signIn), display_name: cp.identity.signIn?.settings.displayName ?? null }));

  app.get('/oidc/start', async (c) => {
    try {
      const { state, url } = await begin(c, { kind: 'dashboard' });
      setCookie(c, STATE_COOKIE, state, { httpOnly: true, sameSite: 'Lax', path: '/auth/oidc', maxAge: PENDING_MS / 1000, secure: isHttps(c) });
      return c.redirect(url.href, 302);
    } catch (err) {
      if (!cp.identity.signIn) throw err;
      return failurePage(c, await refuse(c, err, 'dashboard'));
    }
  });

  app.get('/oidc/callback', async (c) => {
    const query = new URL(c.req.url).search;
    const state = c.req.query('state') ?? '';
    const bound = getCookie(c, STATE_COOKIE);
    const entry = pending.get(state);
    pending.delete(state);
    const kind = entry?.kind ?? 'dashboard';
    try {
      if (!entry) {
        if (bound && bound !== state) throw new AirlockError('oidc_state_mismatch', 'unauthenticated', 'the sign-in answer does not match the sign-in this browser started (state mismatch); start again');
        throw new AirlockError('oidc_state_unknown', 'unauthenticated', 'this sign-in answer was already used, has expired (10 minutes), or was not started here; start again');
      }
      if (entry.kind === 'dashboard' && (!bound || !constantTimeEqual(Buffer.from(bound), Buffer.from(state)))) {
        throw new AirlockError('oidc_state_mismatch', 'unauthenticated', 'the sign-in answer does not match the sign-in this browser started (state mismatch); start again');
      }
      const error = c.req.query('error');
      if (error) throw new AirlockError('oidc_provider_error', 'unauthenticated', `the identity provider refused the sign-in: ${error}${c.req.query('error_description') ? ` (${c.req.query('error_description')})` : ''}`);
      const tokens = await signIn().provider.redeemCode(new URL(`${entry.redirectUri}${query}`), { codeVerifier: entry.codeVerifier, nonce: entry.nonce, state, redirectUri: entry.redirectUri });
      const done = await signIn().complete(tokens, entry.kind);
      if (entry.kind === 'cli') {
        const h = handoffs.get(entry.loginId!);
        if (!h) throw new AirlockError('oidc_state_unknown', 'unauthenticated', 'the command-line sign-in waiting for this answer is gone; run `airlock login` again');
        const handoff = randomBytes(32).toString('base64url');
        h.handoffHash = sha256(handoff);
        h.result = done;
        return c.redirect(`http://127.0.0.1:${entry.port}/callback?login=${encodeURIComponent(entry.loginId!)}&handoff=${handoff}`, 302);
      }
      deleteCookie(c, STATE_COOKIE, { path: '/auth/oidc' });
      setSessionCookie(c, done.token, signIn().settings.sessionMaxSeconds);
      return c.redirect('/', 302);
    } catch (err) {
      if (!cp.identity.signIn) throw err;
      const refused = await refuse(c, err, 'callback');
      if (kind === 'cli' && entry?.port) {
        const h = handoffs.get(entry.loginId!);
        if (h) h.error = refused;
        return c.redirect(`http://127.0.0.1:${entry.port}/callback?login=${encodeURIComponent(entry.loginId!)}&error=${encodeURIComponent(refused.code)}`, 302);
      }
      return failurePage(c, refused);
    }
  });

  /** The CLI's loopback sign-in, step 1: where to send the browser. */
  app.post('/cli/start', async (c) => {
    const body = await readBody(c, cliStart);
    const loginId = `login_${randomBytes(9).toString('hex')}`;
    handoffs.set(loginId, { keyHash: sha256(body.key), at: Date.now() });
    try {
      const { url } = await begin(c, { kind: 'cli', loginId, port: body.port, keyHash: sha256(body.key) });
      return c.json({ login_id: loginId, authorization_url: url.href });
    } catch (err) {
      handoffs.delete(loginId);
      throw await refuse(c, err, 'cli');
    }
  });

  /** Step 2: the one-time code the server handed to the loopback port, with the CLI's key, becomes the sign-in token. */
  app.post('/cli/finish', async (c) => {
    const body = await readBody(c, cliFinish);
    const h = handoffs.get(body.login_id);
    if (!h || !sameHash(body.key, h.keyHash)) throw new AirlockError('unknown_login', 'unauthenticated', 'no such sign-in is waiting (it expired, or another process holds it); run `airlock login` again');
    if (h.error) {
      handoffs.delete(body.login_id);
      throw h.error;
    }
    if (!h.result || !sameHash(body.handoff, h.handoffHash) || Date.now() - h.at > PENDING_MS + HANDOFF_MS) {
      throw new AirlockError('unknown_login', 'unauthenticated', 'the sign-in code is wrong or expired; run `airlock login` again');
    }
    handoffs.delete(body.login_id);
    return c.json(signedInView(h.result));
  });

  /** Device authorization grant: the user approves on any device with a browser; the CLI polls. */
  app.post('/device/start', async (c) => {
    const body = await readBody(c, deviceStart);
    sweep();
    let device: DeviceStart;
    try {
      device = await signIn().provider.startDevice();
    } catch (err) {
      throw await refuse(c, err, 'device');
    }
    const loginId = `login_${randomBytes(9).toString('hex')}`;
    const h: Handoff = { keyHash: sha256(body.key), at: Date.now(), device };
    handoffs.set(loginId, h);
    device.done.then(
      async (tokens) => {
        h.result = await signIn().complete(tokens, 'device');
      },
      async (err: unknown) => {
        h.error = await signIn().refused(err, 'device', address(c));
      },
    ).catch((err: unknown) => {
      h.error = err instanceof AirlockError ? err : invalid('device_failed', (err as Error).message);
    });
    return c.json({
      login_id: loginId,
      user_code: device.userCode,
      verification_uri: device.verificationUri,
      verification_uri_complete: device.verificationUriComplete,
      expires_in: device.expiresInSeconds,
      interval: device.intervalSeconds,
    });
  });

  app.post('/device/poll', async (c) => {
    const body = await readBody(c, devicePoll);
    const h = handoffs.get(body.login_id);
    if (!h || !sameHash(body.key, h.keyHash)) throw new AirlockError('unknown_login', 'unauthenticated', 'no such device sign-in is waiting (it expired); run `airlock login --device` again');
    if (h.error) {
      handoffs.delete(body.login_id);
      throw h.error;
    }
    if (!h.result) return c.json({ state: 'pending' }, 202);
    handoffs.delete(body.login_id);
    return c.json(signedInView(h.result));
  });

  /** `airlock logout`: ends the sign-in on the server, so the saved token stops working on every node. */
  app.post('/signout', async (c) => {
    const token = c.req.header('authorization')?.replace(/^Bearer\s+/i, '') ?? '';
    await signIn().signOut(token);
    return c.json({ ok: true });
  });

  return app;
}

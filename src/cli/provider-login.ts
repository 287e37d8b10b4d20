import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError } from '../server/api-client.js';

/** What a provider sign-in hands the CLI: its Airlock sign-in token. */
export interface CliSignIn {
  readonly token: string;
  readonly user: string;
  readonly groups: string[];
  readonly expires_at: string;
}

const LOGIN_TIMEOUT_MS = 10 * 60_000;

async function post<T>(server: string, path: string, body: unknown): Promise<{ status: number; body: T }> {
  let res: Response;
  try {
    res = await fetch(`${server.replace(/\/+$/, '')}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  } catch (err) {
    throw new ApiError(0, 'unreachable', `cannot reach the Airlock server at ${server}: ${(err as Error).cause ?? (err as Error).message}`);
  }
  const parsed = (await res.json().catch(() => ({}))) as T & { error?: { code: string; message: string } };
  if (!res.ok) throw new ApiError(res.status, parsed.error?.code ?? 'http_error', parsed.error?.message ?? `POST ${path} failed with HTTP ${res.status}`);
  return { status: res.status, body: parsed };
}

/** Opens the system browser; where there is none, the printed URL is enough. */
function openBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(command, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // no browser opener: the user copies the URL
  }
}

const DONE_PAGE = (text: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Airlock</title></head><body><p>${text}</p></body></html>`;

/**
 * `airlock login` with a browser: listens on a random port of 127.0.0.1,
 * asks the server for the provider's URL, and waits for the server to hand
 * back a one-time code on that port (the provider only ever returns to the
 * server). The code is redeemed with a key that never left this process.
 */
export async function loopbackLogin(server: string, opts: { browser: boolean; say: (line: string) => void }): Promise<CliSignIn> {
  const key = randomBytes(32).toString('base64url');
  let resolveCallback!: (q: URLSearchParams) => void;
  const callback = new Promise<URLSearchParams>((r) => (resolveCallback = r));
  const listener = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    const ok = !url.searchParams.get('error');
    res.writeHead(ok ? 200 : 401, { 'content-type': 'text/html; charset=utf-8' });
    res.end(DONE_PAGE(ok ? 'Signed in to Airlock. You can close this tab and return to the terminal.' : 'Airlock refused the sign-in; the terminal says why.'));
    resolveCallback(url.searchParams);
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const timer = setTimeout(() => listener.close(), LOGIN_TIMEOUT_MS);
  try {
    const { port } = listener.address() as AddressInfo;
    const started = (await post<{ login_id: string; authorization_url: string }>(server, '/auth/cli/start', { port, key })).body;
    opts.say(`Open this URL to sign in:\n  ${started.authorization_url}`);
    if (opts.browser) openBrowser(started.authorization_url);
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no sign-in within 10 minutes; run `airlock login` again')), LOGIN_TIMEOUT_MS).unref());
    const q = await Promise.race([callback, timeout]);
    if (q.get('login') !== started.login_id) throw new Error('the browser came back with another sign-in; run `airlock login` again');
    return (await post<CliSignIn>(server, '/auth/cli/finish', { login_id: started.login_id, handoff: q.get('handoff') ?? 'none', key })).body;
  } finally {
    clearTimeout(timer);
    listener.close();
    listener.closeAllConnections?.();
  }
}

/** `airlock login --device`: the device authorization grant, for hosts with no browser. */
export async function deviceLogin(server: string, opts: { say: (line: string) => void }): Promise<CliSignIn> {
  const key = randomBytes(32).toString('base64url');
  const started = (await post<{ login_id: string; user_code: string; verification_uri: string; verification_uri_complete: string | null; expires_in: number; interval: number }>(server, '/auth/device/start', { key })).body;
  opts.say(`To sign in, open ${started.verification_uri} on any device and enter the code ${started.user_code}`);
  if (started.verification_uri_complete) opts.say(`  (or open ${started.verification_uri_complete})`);
  const deadline = Date.now() + started.expires_in * 1000;
  while (Date.now() < deadline) {
    const polled = await post<CliSignIn & { state?: string }>(server, '/auth/device/poll', { login_id: started.login_id, key });
    if (polled.status === 200) return polled.body;
    await new Promise((r) => setTimeout(r, Math.min(started.interval, 5) * 1000));
  }
  throw new Error(`the code ${started.user_code} expired before it was approved; run \`airlock login --device\` again`);
}

/** `airlock logout`: ends the sign-in on the server (an already-ended one is fine). */
export async function signOut(server: string, token: string): Promise<void> {
  const res = await fetch(`${server.replace(/\/+$/, '')}/auth/signout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } }).catch((err: unknown) => {
    throw new ApiError(0, 'unreachable', `cannot reach the Airlock server at ${server}: ${(err as Error).message}`);
  });
  if (!res.ok && res.status !== 401) throw new ApiError(res.status, 'signout_failed', `signing out failed with HTTP ${res.status}`);
}

import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeFrame } from '../../../src/gateway/http/websocket-relay.js';
import { encodeFrame, readFrame, startEdgeUpstream, type EdgeUpstream } from './edge-upstream.js';
import { httpResource, httpRole, startHarness, type Harness } from './harness.js';
import { rawExchange, statuses } from './raw-http.js';

const run = promisify(execFile);
const SECRET = 'upstream-pass-0f9c1d';

let upstream: EdgeUpstream;
let gw: Harness;

beforeAll(async () => {
  upstream = await startEdgeUpstream();
  const resource = httpResource('edge', `${upstream.url}/`, [
    httpRole('reader', {
      allow: [{ methods: ['GET'], path: '/**' }],
      deny: [{ methods: ['*'], path: '/secret/**' }],
      credential: { kind: 'basic', user: 'svc', passwordEnv: 'EDGE_PASSWORD' },
      auditQueryValues: ['page'],
    }),
    httpRole('writer', {
      allow: [{ methods: ['GET', 'POST', 'PUT'], path: '/upload/**' }, { methods: ['WEBSOCKET'], path: '/ws' }],
      credential: { kind: 'header', header: 'X-Api-Key', valueEnv: 'EDGE_KEY' },
      maxBodyBytes: 1024 * 1024,
      contentTypes: ['application/octet-stream', 'application/json'],
      recordBodyBytes: 16,
    }),
    httpRole('nocred', { allow: [{ methods: ['GET'], path: '/**' }], credential: { kind: 'bearer', tokenEnv: 'EDGE_UNSET' } }),
  ]);
  gw = await startHarness(resource, { EDGE_PASSWORD: SECRET, EDGE_KEY: 'key-7d1e' });
});

afterAll(async () => {
  await gw.close();
  await upstream.close();
});

const get = (path: string, role = 'reader', headers: Record<string, string> = {}) =>
  fetch(`${gw.url}${path}`, { headers: { authorization: gw.auth(role), ...headers } });

describe('the HTTP gateway in front of a real upstream', () => {
  it('forwards the path bytes as sent, the query untouched, and the role credential instead of the client’s', async () => {
    const before = upstream.seen.length;
    const res = await get('/api/queues/%2f/q%20one?page=2&token=abc', 'reader', {
      cookie: 'airlock_grant=reader; theme=dark; airlock_session=s',
      'x-forwarded-host': 'evil.example',
      'x-original-url': '/secret/x',
      forwarded: 'for=1.2.3.4',
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { url: string; headers: Record<string, string> };
    expect(body.url).toBe('/api/queues/%2f/q%20one?page=2&token=abc');
    expect(body.headers.authorization).toBe(`Basic ${Buffer.from(`svc:${SECRET}`).toString('base64')}`);
    expect(body.headers.host).toBe(`127.0.0.1:${upstream.port}`);
    expect(body.headers.cookie).toBe('theme=dark');
    expect(body.headers['x-forwarded-host']).toBeUndefined();
    expect(body.headers['x-original-url']).toBeUndefined();
    expect(body.headers.forwarded).toBeUndefined();
    expect(upstream.seen.length).toBe(before + 1);
  });

  it('injects a named header credential and drops the client’s own copy of it', async () => {
    const res = await fetch(`${gw.url}/upload/x`, { headers: { authorization: gw.auth('writer'), 'x-api-key': 'mine' } });
    const body = (await res.json()) as { headers: Record<string, string> };
    expect(body.headers['x-api-key']).toBe('key-7d1e');
    expect(body.headers.authorization).toBeUndefined();
  });

  it('refuses with 403 naming the role, as JSON or as HTML for a browser, and the upstream never sees it', async () => {
    const before = upstream.seen.length;
    const res = await fetch(`${gw.url}/secret/keys`, { headers: { authorization: gw.auth('reader') } });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({
      error: { code: 'http_not_allowed', message: 'airlock: role "reader" on edge does not allow GET /secret/keys (denied by "* /secret/**")' },
    });
    const html = await fetch(`${gw.url}/x`, { method: 'DELETE', headers: { authorization: gw.auth('reader'), accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(html.status).toBe(403);
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(await html.text()).toContain('airlock: role &#34;reader&#34; on edge does not allow DELETE /x');
    expect(upstream.seen.length).toBe(before);
  });

  it('records intent before forwarding and the outcome after, with query values redacted and no credential anywhere', async () => {
    const n = gw.log.outcomes.length;
    await (await get('/api/overview?page=3&token=s3cr3t&flag')).text();
    await (await get('/secret/x?page=1')).text();
    const [ok, refused] = gw.log.outcomes.slice(n).map((o) => o.outcome);
    expect(ok).toMatchObject({ method: 'GET', path: '/api/overview', query: 'page=3&token=<redacted>&<redacted>', status: 200, refused: false, rule: 'GET /**', ended: 'complete' });
    expect(ok!.responseBytes).toBeGreaterThan(0);
    expect(gw.log.intents.some((i) => i.intent.seq === ok!.seq && i.intent.path === '/api/overview')).toBe(true);
    expect(refused).toMatchObject({ path: '/secret/x', query: 'page=1', status: 403, refused: true, refusal: 'http_not_allowed' });
    const everything = JSON.stringify([gw.log.intents, gw.log.outcomes]);
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain(Buffer.from(`svc:${SECRET}`).toString('base64'));
    expect(everything).not.toContain('key-7d1e');
  });

  it('does not forward a request until its record is safe, and refuses it (503) when the record cannot be written', async () => {
    let release!: () => void;
    gw.log.holdIntent = () => new Promise<void>((r) => (release = r));
    const before = upstream.seen.length;
    const pending = get('/api/held');
    await new Promise((r) => setTimeout(r, 100));
    expect(upstream.seen.length).toBe(before);
    release();
    expect((await pending).status).toBe(200);
    expect(upstream.seen.length).toBe(before + 1);
    gw.log.holdIntent = () => Promise.reject(new Error('disk full'));
    const res = await get('/api/lost');
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('http_audit_unavailable');
    expect(upstream.seen.length).toBe(before + 1);
    gw.log.holdIntent = null;
  });

  it('names the missing environment variable, never a value, when a credential is not configured', async () => {
    const res = await get('/x', 'nocred');
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      'airlock: edge: the upstream credential is not configured on the gateway (environment variable EDGE_UNSET is not set)',
    );
  });

  it('streams a large response and counts its bytes', async () => {
    const n = gw.log.outcomes.length;
    const res = await get('/big?bytes=8388608');
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.length).toBe(8 * 1024 * 1024);
    await expect.poll(() => gw.log.outcomes.length).toBeGreaterThan(n);
    expect(gw.log.outcomes.at(-1)!.outcome.responseBytes).toBe(8 * 1024 * 1024);
  });

  it('takes a large upload within the limit, refuses one over it before reading (413), and stops a chunked one at the limit', async () => {
    const ok = await fetch(`${gw.url}/upload/file`, { method: 'PUT', body: Buffer.alloc(1024 * 1024, 1), headers: { authorization: gw.auth('writer'), 'content-type': 'application/octet-stream' } });
    expect(((await ok.json()) as { bodyBytes: number }).bodyBytes).toBe(1024 * 1024);
    expect(gw.log.outcomes.at(-1)!.outcome.body).toEqual({ text: '\u0001'.repeat(16), bytes: 1024 * 1024, truncated: true });
    const before = upstream.seen.length;
    const big = await fetch(`${gw.url}/upload/file`, { method: 'PUT', body: Buffer.alloc(1024 * 1024 + 1), headers: { authorization: gw.auth('writer'), 'content-type': 'application/octet-stream' } });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe('http_body_too_large');
    const chunks = (async function* () {
      for (let i = 0; i < 20; i++) yield Buffer.alloc(128 * 1024);
    })();
    const chunked = await fetch(`${gw.url}/upload/stream`, {
      method: 'POST',
      body: chunks as unknown as BodyInit,
      duplex: 'half',
      headers: { authorization: gw.auth('writer'), 'content-type': 'application/octet-stream' },
    } as RequestInit).catch((err: Error) => err);
    if (!(chunked instanceof Error)) expect(chunked.status).toBe(413);
    await expect.poll(() => gw.log.outcomes.at(-1)!.outcome.refusal).toBe('http_body_too_large');
    // The upstream never saw a complete over-limit body.
    expect(upstream.seen.slice(before).every((s) => s.bodyBytes <= 1024 * 1024)).toBe(true);
  });

  it('keeps redirects on the gateway when they point at the upstream itself, and leaves other origins alone', async () => {
    const res = await fetch(`${gw.url}/redirect`, { headers: { authorization: gw.auth('reader') }, redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/echo/after-redirect?from=redirect');
    const away = await fetch(`${gw.url}/redirect-away`, { headers: { authorization: gw.auth('reader') }, redirect: 'manual' });
    expect(away.headers.get('location')).toBe('https://elsewhere.example/x');
    const cookies = await get('/cookies');
    expect(cookies.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
  });

  it('streams server-sent events as they come and cuts them at once when the session ends', async ({ onTestFinished }) => {
    // The next tests get a session of their own, however this one ends.
    onTestFinished(() => void gw.renew('reader'));
    const session = gw.session('reader');
    const res = await get('/sse', 'reader', { accept: 'text/event-stream' });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('data: tick 3')) text += new TextDecoder().decode((await reader.read()).value);
    // The upstream's stream never ends by itself: only the cut can end this loop before the test's timeout.
    session.cut('airlock: grant revoked by root: done');
    let tail = '';
    for (;;) {
      const r = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (r.done) break;
      tail += new TextDecoder().decode(r.value);
    }
    // The stream's last event says why it ended.
    expect(tail).toMatch(/\n\nevent: airlock\ndata: airlock: grant revoked by root: done\n\n$/);
    await expect.poll(() => upstream.openStreams()).toBe(0);
    // A pooled connection of the ended session may close under the request once its last second is up (a loaded
    // machine gets there); a new connection meets the same answer.
    const after = await get('/api/overview').catch(() => get('/api/overview'));
    expect(after.status).toBe(403);
    expect(await after.json()).toEqual({ error: { code: 'http_session_ended', message: 'airlock: grant revoked by root: done' } });
  });
});

describe('WebSockets through the gateway', () => {
  const handshake = (role: string, path = '/ws') =>
    `GET ${path} HTTP/1.1\r\nHost: gw\r\nAuthorization: ${gw.auth(role)}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
    'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';

  function open(role: string): Promise<{ socket: net.Socket; frames: Buffer[]; head: string; closed: Promise<void> }> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(gw.port, '127.0.0.1');
      let buf = Buffer.alloc(0);
      let head = '';
      const frames: Buffer[] = [];
      const closed = new Promise<void>((r) => socket.on('close', () => r()));
      socket.on('error', reject);
      socket.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        if (!head) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          head = buf.subarray(0, end).toString();
          buf = buf.subarray(end + 4);
          resolve({ socket, frames, head, closed });
        }
        for (let f = readFrame(buf); f; f = readFrame(buf)) {
          frames.push(Buffer.concat([Buffer.from([f.opcode]), f.payload]));
          buf = buf.subarray(f.size);
        }
      });
      socket.on('close', () => resolve({ socket, frames, head: head || buf.toString(), closed }));
      socket.write(handshake(role));
    });
  }

  it('joins an allowed upgrade to the upstream and relays frames both ways', async () => {
    const ws = await open('writer');
    expect(ws.head).toMatch(/^HTTP\/1\.1 101/);
    ws.socket.write(encodeFrame(0x1, Buffer.from('hello'), true));
    await expect.poll(() => ws.frames.map((f) => f.subarray(1).toString())).toContain('echo: hello');
    ws.socket.destroy();
  });

  it('refuses an upgrade the role does not allow with 403, even though it is a GET', async () => {
    const before = upstream.seen.length;
    const ws = await open('reader');
    expect(ws.head).toMatch(/^HTTP\/1\.1 403/);
    expect(ws.head + ws.frames.join('')).toBeTruthy();
    expect(upstream.seen.length).toBe(before);
  });

  it('cuts a live WebSocket with a 1008 close frame that says why', async () => {
    const ws = await open('writer');
    expect(ws.head).toMatch(/^HTTP\/1\.1 101/);
    gw.session('writer').cut('airlock: grant expired at 16:00:00Z');
    await ws.closed;
    const close = ws.frames.find((f) => f[0] === 0x8)!;
    expect(close).toBeDefined();
    expect(close.readUInt16BE(1)).toBe(1008);
    expect(close.subarray(3).toString()).toBe('airlock: grant expired at 16:00:00Z');
    await expect.poll(() => upstream.openStreams()).toBe(0);
    gw.renew('writer');
  });

  it('cuts a long reason to what a close frame can carry', () => {
    const frame = closeFrame(1008, 'x'.repeat(300));
    expect(frame.length).toBe(4 + 123);
    expect(frame[1]).toBe(125);
  });
});

describe('request smuggling and framing', () => {
  const auth = () => gw.auth('reader');

  it('answers 400 to Content-Length with Transfer-Encoding and forwards nothing', async () => {
    const before = upstream.seen.length;
    const answer = await rawExchange(
      gw.port,
      `POST /api/x HTTP/1.1\r\nHost: gw\r\nAuthorization: ${auth()}\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /secret/x HTTP/1.1\r\nHost: gw\r\n\r\n`,
    );
    expect(statuses(answer)[0]).toBe(400);
    expect(upstream.seen.length).toBe(before);
  });

  it.each([
    ['two different Content-Lengths', 'Content-Length: 5\r\nContent-Length: 6\r\n'],
    ['an obfuscated Transfer-Encoding', 'Transfer-Encoding: xchunked\r\n'],
    ['Transfer-Encoding with a space before the colon', 'Transfer-Encoding : chunked\r\n'],
    ['a Content-Length that is not a number', 'Content-Length: 1e3\r\n'],
  ])('refuses %s and forwards nothing', async (_name, header) => {
    const before = upstream.seen.length;
    const answer = await rawExchange(gw.port, `POST /api/x HTTP/1.1\r\nHost: gw\r\nAuthorization: ${auth()}\r\n${header}\r\nhello`);
    expect([400, 403]).toContain(statuses(answer)[0]);
    expect(upstream.seen.length).toBe(before);
  });

  it('checks each pipelined request on its own and answers in order', async () => {
    const before = upstream.seen.length;
    const one = (path: string) => `GET ${path} HTTP/1.1\r\nHost: gw\r\nAuthorization: ${auth()}\r\n\r\n`;
    const answer = await rawExchange(gw.port, one('/api/a') + one('/secret/b') + one('/api/c') + one('/api/../secret/d'), { endAfterMs: 600 });
    expect(statuses(answer)).toEqual([200, 403, 200, 403]);
    expect(upstream.seen.slice(before).map((s) => s.url)).toEqual(['/api/a', '/api/c']);
  });

  it('refuses an absolute-form target instead of proxying to the host it names', async () => {
    const answer = await rawExchange(gw.port, `GET http://169.254.169.254/latest/meta-data HTTP/1.1\r\nHost: 169.254.169.254\r\nAuthorization: ${auth()}\r\n\r\n`);
    expect(statuses(answer)[0]).toBe(403);
    expect(answer).toContain('only origin-form request targets');
  });

  it('refuses a second Host header, a method override and TRACE', async () => {
    const a = await rawExchange(gw.port, `GET /api/x HTTP/1.1\r\nHost: gw\r\nHost: evil\r\nAuthorization: ${auth()}\r\n\r\n`);
    expect([400, 403]).toContain(statuses(a)[0]);
    const b = await rawExchange(gw.port, `GET /api/x HTTP/1.1\r\nHost: gw\r\nX-HTTP-Method-Override: DELETE\r\nAuthorization: ${auth()}\r\n\r\n`);
    expect(b).toContain('http_method_override');
    const c = await rawExchange(gw.port, `TRACE /api/x HTTP/1.1\r\nHost: gw\r\nAuthorization: ${auth()}\r\n\r\n`);
    expect(statuses(c)[0]).toBe(403);
    expect(c).not.toContain(SECRET);
  });

  it('refuses an h2c upgrade', async () => {
    const answer = await rawExchange(gw.port, `GET /api/x HTTP/1.1\r\nHost: gw\r\nAuthorization: ${auth()}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n`);
    expect(statuses(answer)[0]).toBe(403);
    expect(answer).toContain('http_upgrade_refused');
  });

  it('keeps the gateway’s own paths out of reach of the upstream', async () => {
    const before = upstream.seen.length;
    for (const path of ['/.airlock/login', '/%2Eairlock/login', '/%2eAIRLOCK/x']) {
      const res = await get(path);
      expect(res.status).toBe(404);
    }
    expect(upstream.seen.length).toBe(before);
  });

  it('answers Expect: 100-continue only for an allowed request, and refuses before the body is sent', async () => {
    const before = upstream.seen.length;
    const refused = await run('curl', ['-s', '-i', '-X', 'PUT', '-H', `Authorization: ${gw.auth('reader')}`, '-H', 'Expect: 100-continue', '-H', 'Content-Type: application/json', '--data-binary', '{"a":1}', `${gw.url}/api/x`]);
    expect(refused.stdout).not.toContain('100 Continue');
    expect(refused.stdout).toMatch(/^HTTP\/1\.1 403/);
    const allowed = await run('curl', ['-s', '-i', '-X', 'PUT', '-H', `Authorization: ${gw.auth('writer')}`, '-H', 'Expect: 100-continue', '-H', 'Content-Type: application/json', '--data-binary', '{"a":1}', `${gw.url}/upload/x`]);
    expect(allowed.stdout).toMatch(/^HTTP\/1\.1 100 Continue/);
    expect(allowed.stdout).toContain('"bodyBytes":7');
    expect(upstream.seen.length).toBe(before + 1);
    expect(upstream.seen.at(-1)!.headers.expect).toBeUndefined();
  });

  it('sends curl --path-as-is dot segments nowhere', async () => {
    const before = upstream.seen.length;
    const out = await run('curl', ['-s', '--path-as-is', '-H', `Authorization: ${gw.auth('reader')}`, `${gw.url}/api/../secret/x`]);
    expect(JSON.parse(out.stdout)).toMatchObject({ error: { code: 'http_path_refused' } });
    expect(upstream.seen.length).toBe(before);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasFormOverride } from '../../../src/gateway/http/form-override.js';
import { startEdgeUpstream, type EdgeUpstream } from './edge-upstream.js';
import { httpResource, httpRole, startHarness, type Harness } from './harness.js';
import { rawExchange, statuses } from './raw-http.js';

/**
 * `_method` inside a form body (Rails, Laravel, Symfony, Express's
 * method-override): a role that may POST a form must not DELETE through it.
 * Refused whatever method it names; a form without it is forwarded whole.
 */

let upstream: EdgeUpstream;
let gw: Harness;

beforeAll(async () => {
  upstream = await startEdgeUpstream();
  gw = await startHarness(
    httpResource('edge', `${upstream.url}/`, [
      httpRole('poster', { allow: [{ methods: ['POST', 'DELETE'], path: '/forms/**' }], maxBodyBytes: 4096 }),
    ]),
  );
});

afterAll(async () => {
  await gw.close();
  await upstream.close();
});

const post = (type: string, body: string) =>
  fetch(`${gw.url}/forms/x`, { method: 'POST', headers: { authorization: gw.auth('poster'), 'content-type': type, accept: 'application/json' }, body });

const MULTIPART = 'multipart/form-data; boundary=b0';
const part = (name: string, value: string) => `--b0\r\nContent-Disposition: form-data; name=${name}\r\n\r\n${value}\r\n`;

describe('method overrides in form bodies', () => {
  it.each([
    ['urlencoded', 'application/x-www-form-urlencoded', 'a=1&_method=DELETE'],
    ['urlencoded, encoded name and odd case', 'application/x-www-form-urlencoded; charset=utf-8', 'a=1&%5F%4DETHOD=delete'],
    ['urlencoded, naming a method the role allows', 'application/x-www-form-urlencoded', '_method=POST'],
    ['multipart, quoted name', MULTIPART, `${part('"a"', '1')}${part('"_method"', 'DELETE')}--b0--\r\n`],
    ['multipart, bare name', MULTIPART, `${part('_method', 'PUT')}--b0--\r\n`],
  ])('refuses a %s _method field and forwards nothing', async (_name, type, body) => {
    const before = upstream.seen.length;
    const res = await post(type, body);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: 'http_method_override', message: expect.stringContaining('a _method field in a form body') } });
    expect(upstream.seen.length).toBe(before);
    expect(gw.log.outcomes.at(-1)?.outcome).toMatchObject({ refused: true, refusal: 'http_method_override', path: '/forms/x' });
  });

  it('forwards a form without one, whole, chunked or not', async () => {
    const res = await post('application/x-www-form-urlencoded', 'a=1&method=DELETE&x_method=1');
    expect(res.status).toBe(200);
    expect(upstream.seen.at(-1)).toMatchObject({ method: 'POST', bodyBytes: 28 });
    const chunked = await rawExchange(
      gw.port,
      `POST /forms/y HTTP/1.1\r\nHost: gw\r\nAuthorization: ${gw.auth('poster')}\r\nContent-Type: ${MULTIPART}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n` +
        `10\r\n${part('"a"', '1').slice(0, 16)}\r\n${(part('"a"', '1').length - 16).toString(16)}\r\n${part('"a"', '1').slice(16)}\r\n0\r\n\r\n`,
    );
    expect(statuses(chunked)).toEqual([200]);
    expect(upstream.seen.at(-1)).toMatchObject({ url: '/forms/y', bodyBytes: part('"a"', '1').length });
  });

  it('refuses a form larger than it can read whole (the role’s max_body here), answering 100-continue first', async () => {
    const before = upstream.seen.length;
    const answer = await rawExchange(
      gw.port,
      `POST /forms/x HTTP/1.1\r\nHost: gw\r\nAuthorization: ${gw.auth('poster')}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n` +
        `1400\r\n${'a'.repeat(0x1400)}\r\n0\r\n\r\n`,
    );
    expect(statuses(answer)).toEqual([100, 413]);
    expect(answer).toContain('a form body over 4096 bytes');
    expect(upstream.seen.length).toBe(before);
  });

  it('reads names, not values', () => {
    expect(hasFormOverride('urlencoded', Buffer.from('note=_method%3DDELETE'))).toBe(false);
    expect(hasFormOverride('multipart', Buffer.from(`${part('"note"', 'name="_method"')}--b0--\r\n`))).toBe(false);
  });
});

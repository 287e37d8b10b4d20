import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpResource, httpRole, startHarness, type Harness } from './harness.js';

/**
 * The RabbitMQ management API (127.0.0.1:15672, guest/guest) as a real admin
 * API behind the gateway: a read role lists queues, a purge role may purge
 * one queue and nothing else. Queues live in vhost "/" (so every path carries
 * %2F, forwarded as sent) and in a vhost of the test's own.
 */

const run = promisify(execFile);
const RABBIT = 'http://127.0.0.1:15672';
const ADMIN = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
const tag = randomUUID().slice(0, 8);
const VHOST = `airlock-${tag}`;
const Q1 = `airlock-purge-${tag}`;
const Q2 = `airlock-keep-${tag}`;

async function admin(method: string, path: string, body?: unknown): Promise<Response> {
  const res = await fetch(`${RABBIT}${path}`, {
    method,
    headers: { authorization: ADMIN, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res;
}

async function publish(vhost: string, queue: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await admin('POST', `/api/exchanges/${encodeURIComponent(vhost)}/amq.default/publish`, {
      properties: {},
      routing_key: queue,
      payload: `m${i}`,
      payload_encoding: 'string',
    });
  }
}

/** Messages in a queue now (a requeueing get: the stats in /api/queues lag by seconds). */
async function depth(vhost: string, queue: string): Promise<number> {
  const res = await admin('POST', `/api/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(queue)}/get`, {
    count: 100,
    ackmode: 'ack_requeue_true',
    encoding: 'auto',
  });
  return ((await res.json()) as unknown[]).length;
}

let gw: Harness;

beforeAll(async () => {
  await admin('PUT', `/api/vhosts/${VHOST}`, {});
  await admin('PUT', `/api/permissions/${VHOST}/guest`, { configure: '.*', write: '.*', read: '.*' });
  for (const [vhost, q] of [['/', Q1], ['/', Q2], [VHOST, Q1]] as const) {
    await admin('PUT', `/api/queues/${encodeURIComponent(vhost)}/${q}`, { auto_delete: false, durable: false });
    await publish(vhost, q, 3);
  }
  const resource = httpResource('rabbit-admin', RABBIT, [
    httpRole('read', {
      allow: [{ methods: ['GET'], path: '/api/**' }],
      deny: [{ methods: ['*'], path: '/api/definitions/**' }, { methods: ['*'], path: '/api/users/**' }],
      credential: { kind: 'basic', user: 'guest', passwordEnv: 'RABBIT_PASSWORD' },
      auditQueryValues: ['columns'],
    }),
    httpRole('purge', {
      allow: [{ methods: ['DELETE'], path: `/api/queues/*/${Q1}/contents` }],
      credential: { kind: 'basic', user: 'guest', passwordEnv: 'RABBIT_PASSWORD' },
    }),
  ]);
  gw = await startHarness(resource, { RABBIT_PASSWORD: 'guest' });
});

afterAll(async () => {
  await gw?.close();
  for (const q of [Q1, Q2]) await admin('DELETE', `/api/queues/%2F/${q}`).catch(() => undefined);
  await admin('DELETE', `/api/vhosts/${VHOST}`).catch(() => undefined);
});

describe('RabbitMQ management API through the gateway', () => {
  it('a read role lists queues with curl, no RabbitMQ credential on the command line', async () => {
    const out = await run('curl', ['-s', '-f', '-H', `Authorization: ${gw.auth('read')}`, `${gw.url}/api/queues/%2F?columns=name,messages`]);
    const names = (JSON.parse(out.stdout) as { name: string }[]).map((q) => q.name);
    expect(names).toEqual(expect.arrayContaining([Q1, Q2]));
    expect(gw.log.outcomes.at(-1)!.outcome).toMatchObject({ method: 'GET', path: '/api/queues/%2F', query: 'columns=name,messages', status: 200, refused: false });
  });

  it('a read role lists the queues of a vhost with fetch, and may read one queue by its %2F path', async () => {
    const res = await fetch(`${gw.url}/api/queues/${VHOST}`, { headers: { authorization: gw.auth('read') } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { name: string }[]).map((q) => q.name)).toEqual([Q1]);
    const one = await fetch(`${gw.url}/api/queues/%2F/${Q2}`, { headers: { authorization: gw.auth('read') } });
    expect(((await one.json()) as { name: string; vhost: string })).toMatchObject({ name: Q2, vhost: '/' });
  });

  it('a read role cannot purge, delete, or read users and definitions (deny wins over GET /api/**)', async () => {
    const purge = await fetch(`${gw.url}/api/queues/%2F/${Q1}/contents`, { method: 'DELETE', headers: { authorization: gw.auth('read') } });
    expect(purge.status).toBe(403);
    expect(await purge.json()).toEqual({
      error: { code: 'http_not_allowed', message: `airlock: role "read" on rabbit-admin does not allow DELETE /api/queues/%2F/${Q1}/contents` },
    });
    for (const path of ['/api/users', '/api/definitions', '/API/Users/guest', '/api/Definitions/%2F']) {
      const res = await fetch(`${gw.url}${path}`, { headers: { authorization: gw.auth('read') } });
      expect(res.status, path).toBe(403);
    }
    expect(await depth('/', Q1)).toBe(3);
  });

  it('a purge role purges its one queue (vhost "/" sent as %2F) and nothing else', async () => {
    const other = await fetch(`${gw.url}/api/queues/%2F/${Q2}/contents`, { method: 'DELETE', headers: { authorization: gw.auth('purge') } });
    expect(other.status).toBe(403);
    const del = await fetch(`${gw.url}/api/queues/%2F/${Q1}`, { method: 'DELETE', headers: { authorization: gw.auth('purge') } });
    expect(del.status).toBe(403);
    const list = await fetch(`${gw.url}/api/queues`, { headers: { authorization: gw.auth('purge') } });
    expect(list.status).toBe(403);
    expect(await depth('/', Q2)).toBe(3);

    const ok = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'DELETE', '-H', `Authorization: ${gw.auth('purge')}`, `${gw.url}/api/queues/%2F/${Q1}/contents`]);
    expect(ok.stdout).toBe('204');
    expect(await depth('/', Q1)).toBe(0);
    expect(await depth('/', Q2)).toBe(3);
    expect(await depth(VHOST, Q1)).toBe(3);
    expect(gw.log.outcomes.at(-1)!.outcome).toMatchObject({ method: 'DELETE', path: `/api/queues/%2F/${Q1}/contents`, status: 204, refused: false });
  });

  it('path tricks do not stretch the purge rule to another queue', async () => {
    const tricks = [
      `/api/queues/%2F/${Q1}/contents/../../${Q2}/contents`,
      `/api/queues/%2F/${Q1}%2F..%2F${Q2}/contents`,
      `/api/queues/%2F/${Q1}/..%2F${Q2}/contents`,
      `/api/queues/%2F/${Q2};/${Q1}/contents`,
      `/api/queues/%2F/${Q2}/contents?/${Q1}/contents`,
      `/api/queues/%2F/${Q2}/contents#/${Q1}/contents`,
      `/api/queues/%2F//${Q1}/contents`,
      `/api/queues/%252F/${Q1}/contents`,
    ];
    for (const path of tricks) {
      const out = await run('curl', ['-s', '--path-as-is', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'DELETE', '-H', `Authorization: ${gw.auth('purge')}`, `${gw.url}${path}`]);
      expect(out.stdout, path).toBe('403');
    }
    expect(await depth('/', Q2)).toBe(3);
  });
});

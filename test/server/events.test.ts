import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendAudit } from '../../src/audit/chain.js';
import { ManualClock } from '../../src/core/clock.js';
import { issueToken } from '../../src/core/tokens.js';
import { parseConfig } from '../../src/config/load.js';
import { createApiClient, type ApiClient } from '../../src/server/api-client.js';
import type { StreamEvent } from '../../src/server/event-stream-client.js';
import { startControlPlane, type RunningControlPlane } from '../../src/server/start.js';
import { tempConfig } from '../support/cli.js';
import { EXAMPLE_CONFIG } from '../support/world.js';

let cp: RunningControlPlane;
let cleanup: () => void;
const as: Record<string, ApiClient> = {};
const tokens: Record<string, string> = {};
const streams: AbortController[] = [];

async function boot(events: { heartbeatMs?: number; replayLimit?: number } = {}) {
  const tmp = tempConfig(EXAMPLE_CONFIG);
  cleanup = tmp.cleanup;
  const clock = new ManualClock('2026-03-01T12:00:00Z');
  cp = await startControlPlane(parseConfig(EXAMPLE_CONFIG, 'airlock.yaml', tmp.dir), { clock, listen: '127.0.0.1:0', events: { ...events, pollMs: 50 } });
  for (const name of ['alice', 'carol']) {
    tokens[name] = (await issueToken(cp.store, clock, cp.directory, name)).token;
    as[name] = createApiClient(cp.url, tokens[name]);
  }
  // Tokens are issued without a bus event; let the tail catch up so each test starts from a quiet stream.
  await cp.tail.poke();
}

async function open(client: ApiClient, after?: string) {
  const ac = new AbortController();
  streams.push(ac);
  const iter = await client.events({ after, signal: ac.signal });
  return {
    ac,
    /** Reads events until `n` of type `change` have arrived (and returns everything read). */
    async take(n: number): Promise<StreamEvent[]> {
      const got: StreamEvent[] = [];
      while (got.filter((e) => e.event === 'change').length < n) {
        const { value, done } = await iter.next();
        if (done) throw new Error('stream ended early');
        got.push(value);
      }
      return got;
    },
  };
}

const actions = (events: StreamEvent[]) => events.filter((e) => e.event === 'change').map((e) => (JSON.parse(e.data) as { action: string }).action);

afterEach(async () => {
  for (const ac of streams.splice(0)) ac.abort();
  await cp.close();
  cleanup();
});

describe('GET /api/events', () => {
  beforeEach(() => boot());

  it('says where it starts, then sends each change with its audit seq as the event id', async () => {
    const s = await open(as.carol!);
    const head = cp.tail.head();
    await as.alice!.request({ resource: 'orders-db', role: 'read', duration: '10m', reason: 'look' });
    const got = await s.take(2);
    expect(got[0]).toMatchObject({ event: 'hello', id: String(head) });
    expect(actions(got)).toEqual(['request.created', 'grant.activated']);
    const ids = got.filter((e) => e.event === 'change').map((e) => Number(e.id));
    expect(ids).toEqual([head + 1, head + 2]);
    // Changes carry no audit details: the stream is open to everyone signed in.
    expect(got.map((e) => e.data).join('')).not.toContain('look');
  });

  it('resumes after a dropped stream from Last-Event-ID without missing or repeating anything', async () => {
    const first = await open(as.carol!);
    const { grant } = await as.alice!.request({ resource: 'orders-db', role: 'read', duration: '10m', reason: 'look' });
    const seen = await first.take(2);
    const lastId = seen.at(-1)!.id!;
    first.ac.abort();

    await as.alice!.release(grant!.id);
    await as.alice!.request({ resource: 'orders-db', role: 'read', duration: '5m', reason: 'again' });

    const resumed = await open(as.carol!, lastId);
    const got = await resumed.take(3);
    expect(got[0]!.event).toBe('hello');
    expect(actions(got)).toEqual(['grant.released', 'request.created', 'grant.activated']);
    expect(got.filter((e) => e.event === 'change').map((e) => Number(e.id))).toEqual([1, 2, 3].map((i) => Number(lastId) + i));
    // ...and goes on live after the replay.
    await as.alice!.release((await as.alice!.who())[0]!.id);
    expect(actions(await resumed.take(1))).toEqual(['grant.released']);
  });

  it('announces rows written without a bus event (statements, other processes) too', async () => {
    const s = await open(as.carol!);
    await cp.store.transaction((tx) => appendAudit(tx, cp.clock.now(), [{ actor: 'alice', action: 'statement', target: 'ses_x', resource: 'orders-db' }]));
    expect(actions(await s.take(1))).toEqual(['statement']);
  });

  it('folds a burst of statements into one message that carries the last seq', async () => {
    const s = await open(as.carol!);
    const rows = ['statement', 'statement.refused', 'statement'].map((action) => ({ actor: 'alice', action, target: 'ses_x', resource: 'orders-db' }));
    const written = await cp.store.transaction((tx) => appendAudit(tx, cp.clock.now(), rows));
    const [msg] = (await s.take(1)).filter((e) => e.event === 'change');
    expect(msg!.id).toBe(String(written.at(-1)!.seq));
    expect(JSON.parse(msg!.data)).toMatchObject({ action: 'statement', count: 3 });
  });

  it('refuses a malformed Last-Event-ID and an anonymous caller', async () => {
    const bad = await fetch(`${cp.url}/api/events`, { headers: { authorization: `Bearer ${tokens.carol}`, 'last-event-id': 'abc' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_event_id');
    expect((await fetch(`${cp.url}/api/events`)).status).toBe(401);
  });
});

describe('GET /api/events limits', () => {
  it('tells a client too far behind to reset instead of replaying everything, and sends heartbeats', async () => {
    await boot({ replayLimit: 2, heartbeatMs: 30 });
    for (let i = 0; i < 3; i += 1) await as.alice!.request({ resource: 'orders-db', role: 'read', duration: '5m', reason: `r${i}` });
    const res = await fetch(`${cp.url}/api/events`, { headers: { authorization: `Bearer ${tokens.carol}`, 'last-event-id': '0' } });
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes(': keepalive')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(text).toMatch(/^event: reset\ndata: \{"head":\d+\}\nid: \d+\nretry: 1000\n\n/);
    expect(text).not.toContain('event: change');
  });
});

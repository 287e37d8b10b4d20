import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { issueToken } from '../../src/core/tokens.js';
import { parseConfig } from '../../src/config/load.js';
import { createControlPlanePort } from '../../src/gateway/kernel/control-plane-port.js';
import { exponentialBackoff } from '../../src/notify/backoff.js';
import { createApiClient, type ApiClient } from '../../src/server/api-client.js';
import { startControlPlane, type RunningControlPlane } from '../../src/server/start.js';
import { tempConfig } from '../support/cli.js';
import { EXAMPLE_CONFIG } from '../support/world.js';

type Series = Map<string, number>;

/**
 * A strict reader of the Prometheus text format: every line must be a HELP,
 * a TYPE, or a sample of a family whose TYPE came first. Returns
 * `name{labels}` → value.
 */
function parsePrometheus(text: string): Series {
  const series: Series = new Map();
  const typed = new Map<string, string>();
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.trimEnd().split('\n')) {
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') {
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped']).toContain(meta[3]);
        typed.set(meta[2]!, meta[3]!);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (-?[0-9.e+]+|NaN|\+Inf|-Inf)$/.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${line}`);
    const family = m[1]!.replace(/_(bucket|sum|count)$/, '');
    expect(typed.has(m[1]!) || typed.get(family) === 'histogram', `${m[1]} has no TYPE`).toBe(true);
    series.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return series;
}

let cp: RunningControlPlane;
let cleanup: () => void;
let clock: ManualClock;
const as: Record<string, ApiClient> = {};

beforeEach(async () => {
  // A webhook pointing at a port nobody listens on: its notifications pile up as backlog.
  const yaml = `${EXAMPLE_CONFIG}\nnotify:\n  - { kind: webhook, url: "http://127.0.0.1:9/hook" }\n`;
  const tmp = tempConfig(yaml);
  cleanup = tmp.cleanup;
  clock = new ManualClock('2026-03-01T12:00:00Z');
  cp = await startControlPlane(parseConfig(yaml, 'airlock.yaml', tmp.dir), {
    clock,
    listen: '127.0.0.1:0',
    notify: { log: () => {}, backoff: exponentialBackoff({ random: () => 1 }) },
  });
  for (const name of ['alice', 'bob', 'root']) as[name] = createApiClient(cp.url, (await issueToken(cp.store, clock, cp.directory, name)).token);
});

afterEach(async () => {
  await cp.close();
  cleanup();
});

async function scrape(): Promise<Series> {
  await cp.tail.poke();
  await cp.notifier.worker.idle();
  return parsePrometheus(await as.root!.metrics());
}

describe('GET /metrics', () => {
  it('needs a token', async () => {
    expect((await fetch(`${cp.url}/metrics`)).status).toBe(401);
  });

  it('parses as Prometheus text and moves with grants, requests, sessions, statements, expiry and notifications', async () => {
    const before = await scrape();
    expect(before.get('airlock_active_grants{resource="orders-db"}')).toBe(0);
    expect(before.get('airlock_pending_requests{resource="orders-db"}')).toBe(0);
    expect(before.get('airlock_live_sessions{resource="orders-db"}')).toBe(0);
    expect(before.get('airlock_grant_expiry_lag_seconds_count')).toBe(0);

    await as.bob!.request({ resource: 'orders-db', role: 'write', duration: '1h', reason: 'fix', ticket: 'INC-1' });
    const { grant } = await as.alice!.request({ resource: 'orders-db', role: 'read', duration: '10m', reason: 'look' });
    const backend = createControlPlanePort({ ...cp, kind: 'postgres' });
    const { sessionId } = await backend.sessionStarted({ grantId: grant!.id, clientAddress: '127.0.0.1:5000' });
    await backend.statement({ sessionId, text: 'select 1', outcome: 'ok', durationMs: 1 });
    await backend.statement({ sessionId, text: 'delete from orders', outcome: 'refused', durationMs: 1 });
    await backend.flush();

    const during = await scrape();
    expect(during.get('airlock_active_grants{resource="orders-db"}')).toBe(1);
    expect(during.get('airlock_pending_requests{resource="orders-db"}')).toBe(1);
    expect(during.get('airlock_live_sessions{resource="orders-db"}')).toBe(1);
    expect(during.get('airlock_statements_total{resource="orders-db",outcome="allowed"}')).toBe(1);
    expect(during.get('airlock_statements_total{resource="orders-db",outcome="refused"}')).toBe(1);
    const sink = [...during.keys()].find((k) => k.startsWith('airlock_notification_backlog{'))!;
    expect(sink).toBe('airlock_notification_backlog{sink="webhook:127.0.0.1:9"}');
    expect(during.get(sink)).toBe(3); // request.created, request.created (read), grant.activated — in order behind the first
    expect(during.get('airlock_notification_failures_total{sink="webhook:127.0.0.1:9"}')).toBeGreaterThanOrEqual(1);

    await backend.sessionEnded({ sessionId, reason: 'expired', statements: 2, refused: 1, bytesIn: 0, bytesOut: 0, at: cp.clock.now() });
    clock.advance(10 * 60_000);
    await cp.expiry.idle();
    const after = await scrape();
    expect(after.get('airlock_active_grants{resource="orders-db"}')).toBe(0);
    expect(after.get('airlock_live_sessions{resource="orders-db"}')).toBe(0);
    expect(after.get('airlock_grants_ended_total{reason="expired"}')).toBe(1);
    expect(after.get('airlock_grant_expiry_lag_seconds_count')).toBe(1);
    expect(after.get('airlock_grant_expiry_lag_seconds_bucket{le="0.1"}')).toBe(1);
    expect(after.get(sink)).toBe(4);
    expect(after.get('airlock_audit_events')).toBeGreaterThan(during.get('airlock_audit_events')!);
  });
});

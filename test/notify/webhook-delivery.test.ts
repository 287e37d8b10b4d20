import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { issueToken } from '../../src/core/tokens.js';
import { parseConfig } from '../../src/config/load.js';
import { exponentialBackoff } from '../../src/notify/backoff.js';
import { verifyWebhook } from '../../src/notify/webhook-signature.js';
import { createApiClient, type ApiClient } from '../../src/server/api-client.js';
import { startControlPlane, type RunningControlPlane } from '../../src/server/start.js';
import { tempConfig } from '../support/cli.js';
import { EXAMPLE_CONFIG } from '../support/world.js';
import { startReceiver, type Delivery, type Receiver } from './receiver.js';

const SECRET = 'whsec-test-5c1b2f6a';
const START = '2026-03-01T12:00:00Z';

let receiver: Receiver;
let tmp: ReturnType<typeof tempConfig>;
let cp: RunningControlPlane | null = null;
let yaml: string;

async function start(clock: ManualClock, timeoutMs = 2000) {
  cp = await startControlPlane(parseConfig(yaml, 'airlock.yaml', tmp.dir), {
    clock,
    listen: '127.0.0.1:0',
    notify: {
      env: { AIRLOCK_WEBHOOK_SECRET: SECRET },
      timeoutMs,
      // random() = 1: the full delay, so a test knows exactly when the next attempt is due.
      backoff: exponentialBackoff({ baseMs: 1000, random: () => 1 }),
      log: () => {},
    },
  });
  const as: Record<string, ApiClient> = {};
  for (const name of ['alice', 'bob']) as[name] = createApiClient(cp.url, (await issueToken(cp.store, clock, cp.directory, name)).token);
  return { cp, as };
}

const parsed = (d: Delivery) => JSON.parse(d.body) as { id: string; type: string; text: string; grant?: { id: string }; request?: { id: string } };
const idOf = (d: Delivery) => String(d.headers['x-airlock-event-id']);

/** What a careful receiver keeps: the first copy of each event id. */
function deduplicated(deliveries: readonly Delivery[]): Delivery[] {
  const seen = new Set<string>();
  return deliveries.filter((d) => !seen.has(idOf(d)) && seen.add(idOf(d)));
}

beforeEach(async () => {
  receiver = await startReceiver();
  yaml = `${EXAMPLE_CONFIG}\nnotify:\n  - { kind: webhook, url: "${receiver.url}", secret_env: AIRLOCK_WEBHOOK_SECRET }\n`;
  tmp = tempConfig(yaml);
});

afterEach(async () => {
  await cp?.close();
  cp = null;
  await receiver.close();
  tmp.cleanup();
});

describe('signed webhooks through the outbox', () => {
  it('delivers each change signed, with a stable event id, in order', async () => {
    const clock = new ManualClock(START);
    const { cp, as } = await start(clock);
    const asked = await as.alice!.request({ resource: 'orders-db', role: 'write', duration: '1h', reason: 'fix order 9', ticket: 'INC-9' });
    await as.bob!.approve(asked.request.id);
    await cp.notifier.worker.idle();
    await receiver.until(3);
    expect(receiver.deliveries.map((d) => parsed(d).type)).toEqual(['request.created', 'request.approved', 'grant.activated']);
    for (const d of receiver.deliveries) {
      expect(verifyWebhook(SECRET, String(d.headers['x-airlock-signature']), d.body, clock.now())).toMatchObject({ ok: true });
      expect(parsed(d).id).toBe(idOf(d));
      // A receiver that checks the signature refuses a body changed in transit.
      expect(verifyWebhook(SECRET, String(d.headers['x-airlock-signature']), d.body.replace('alice', 'mallory'), clock.now())).toEqual({ ok: false, code: 'bad_signature' });
    }
    const activated = parsed(receiver.deliveries[2]!);
    expect(activated.text).toBe('alice has WRITE on orders-db until 13:00 UTC — INC-9 fix order 9, approved by bob');
    expect(new Set(receiver.deliveries.map(idOf)).size).toBe(3);
    // The outbox row ids the events by the audit row that recorded them.
    const audit = await as.bob!.audit({ action: 'grant.activated' });
    expect(idOf(receiver.deliveries[2]!)).toBe(`evt_${audit[0]!.seq}`);
  });

  it('keeps every event through a receiver outage and an Airlock restart, in order per grant, once after de-duplication', async () => {
    const clock = new ManualClock(START);
    const started = await start(clock);
    const as = started.as;
    let cp = started.cp;
    const first = await as.alice!.request({ resource: 'orders-db', role: 'read', duration: '30m', reason: 'INC-1 look' });
    await cp.notifier.worker.idle();
    await receiver.until(1);

    // Down: first answering 503, then not listening at all.
    receiver.setMode('fail');
    await as.alice!.release(first.grant!.id);
    await cp.notifier.worker.idle();
    await receiver.down();
    clock.advance(1000);
    await cp.notifier.worker.idle();
    const second = await as.alice!.request({ resource: 'orders-db', role: 'read', duration: '30m', reason: 'INC-2 look again' });
    await as.alice!.extend(second.grant!.id, '10m');
    await cp.notifier.worker.idle();
    const backlog = await cp.store.db.selectFrom('outbox').selectAll().where('delivered_at', 'is', null).orderBy('id').execute();
    expect(backlog.map((r) => r.event_type)).toEqual(['grant.ended', 'request.created', 'grant.activated', 'request.created', 'grant.extended']);
    expect(backlog[0]!.attempts).toBe(2);
    expect(['ECONNREFUSED', 'UND_ERR_SOCKET']).toContain(backlog[0]!.last_error); // refused, or a kept-alive socket the receiver dropped

    // Airlock restarts while the receiver is still down; nothing is lost.
    await cp.close();
    const later = new ManualClock('2026-03-01T12:05:00Z');
    cp = (await start(later)).cp;
    await cp.notifier.worker.idle();
    await receiver.up();
    receiver.setMode('ok');
    later.advance(15 * 60_000);
    await cp.notifier.worker.idle();
    await receiver.until(7);

    const kept = deduplicated(receiver.deliveries);
    expect(kept.map((d) => parsed(d).type)).toEqual(['request.created', 'grant.activated', 'grant.ended', 'request.created', 'grant.activated', 'request.created', 'grant.extended']);
    const forGrant = (id: string) => kept.filter((d) => parsed(d).grant?.id === id).map((d) => parsed(d).type);
    expect(forGrant(first.grant!.id)).toEqual(['grant.activated', 'grant.ended']);
    expect(forGrant(second.grant!.id)).toEqual(['grant.activated', 'grant.extended']);
    expect(receiver.deliveries.length).toBeGreaterThan(kept.length); // the 503 attempt reached the receiver too
    expect(await cp.store.db.selectFrom('outbox').selectAll().where('delivered_at', 'is', null).execute()).toEqual([]);
  });

  it('never lets a hanging receiver slow an access decision, and retries after its timeout', async () => {
    const clock = new ManualClock(START);
    const { cp, as } = await start(clock, 300);
    receiver.setMode('hang');
    const asked = await as.alice!.request({ resource: 'orders-db', role: 'write', duration: '1h', reason: 'fix', ticket: 'INC-7' });
    await receiver.until(1);
    // The receiver holds the notification of the request open; the approval still goes through at once.
    const approved = await as.bob!.approve(asked.request.id);
    expect(approved.grant?.state).toBe('active');
    expect(receiver.deliveries).toHaveLength(1);

    await cp.notifier.worker.idle(); // the attempt times out (300 ms) and is scheduled again
    receiver.setMode('ok');
    receiver.release();
    clock.advance(1000);
    await cp.notifier.worker.idle();
    await receiver.until(4);
    const kept = deduplicated(receiver.deliveries);
    expect(kept.map((d) => parsed(d).type)).toEqual(['request.created', 'request.approved', 'grant.activated']);
    expect(receiver.deliveries.filter((d) => parsed(d).type === 'request.created')).toHaveLength(2);
    expect(receiver.deliveries[1]!.headers['x-airlock-delivery-attempt']).toBe('2');
  });

  it('puts no secret in any payload or outbox row', async () => {
    const clock = new ManualClock(START);
    const { cp, as } = await start(clock);
    const { grant } = await as.alice!.request({ resource: 'orders-db', role: 'read', duration: '30m', reason: 'INC-3' });
    const { secret } = await as.alice!.credentials(grant!.id);
    await as.alice!.release(grant!.id);
    await cp.notifier.worker.idle();
    await receiver.until(2);
    const rows = JSON.stringify(await cp.store.db.selectFrom('outbox').selectAll().execute());
    for (const text of [rows, JSON.stringify(receiver.deliveries.map((d) => d.body))]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(secret);
      expect(text).not.toContain('verifier');
      expect(text).not.toContain('airlock_tok_');
    }
  });
});

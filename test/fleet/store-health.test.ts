import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { startStoreHealth } from '../../src/fleet/store-health.js';

/**
 * The store probe's decisions, on a manual clock: refuse new work from the
 * first failed probe, cut sessions only once the grace is over, recover on
 * the first answer. (The fleet suite runs the same against a real PostgreSQL
 * behind a paused proxy.)
 */
function world(graceMs = 30_000) {
  const clock = new ManualClock();
  let answer: 'ok' | 'fail' | 'hang' = 'ok';
  const lost: string[] = [];
  const changes: boolean[] = [];
  const health = startStoreHealth({
    clock,
    graceMs,
    intervalMs: 1000,
    timeoutMs: 2000,
    probe: () => (answer === 'ok' ? Promise.resolve() : answer === 'fail' ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')) : new Promise(() => {})),
    onLost: (m) => lost.push(m),
    onChange: (reachable) => changes.push(reachable),
  });
  // In small steps, letting promises settle between them, as real time would.
  const step = async (ms: number) => {
    for (let left = ms; left >= 0; left -= 250) {
      clock.advance(Math.min(250, left));
      await new Promise((r) => setImmediate(r));
      if (left < 250) break;
    }
  };
  return { clock, health, lost, changes, step, set: (a: typeof answer) => (answer = a) };
}

describe('store health', () => {
  it('refuses from the first failed probe, cuts after the grace, and recovers by itself', async () => {
    const w = world(30_000);
    await w.step(0);
    expect(w.health.refusal()).toBeNull();
    w.set('fail');
    await w.step(1000);
    const refusal = w.health.refusal();
    expect(refusal).toMatchObject({ code: 'store_unavailable', kind: 'unavailable' });
    expect(refusal!.message).toContain('ECONNREFUSED');
    await w.step(28_000);
    expect(w.lost).toEqual([]);
    await w.step(2000);
    expect(w.lost).toHaveLength(1);
    expect(w.lost[0]).toMatch(/lost its store at 00:00:01Z and could not reach it for 30s/);
    // Still down: the cut happens once, not at every probe.
    await w.step(10_000);
    expect(w.lost).toHaveLength(1);
    w.set('ok');
    await w.step(1000);
    expect(w.health.refusal()).toBeNull();
    expect(w.changes).toEqual([false, true]);
    w.health.stop();
  });

  it('counts a probe that hangs (a store behind a dead link) as failed, and a short outage never cuts', async () => {
    const w = world(10_000);
    await w.step(0);
    w.set('hang');
    await w.step(1000);
    expect(w.health.refusal()).toBeNull();
    await w.step(2000);
    expect(w.health.refusal()?.code).toBe('store_unavailable');
    w.set('ok');
    // The hung probe never answers; the next one, after the interval, does.
    await w.step(1000);
    await w.step(1000);
    expect(w.health.refusal()).toBeNull();
    await w.step(20_000);
    expect(w.lost).toEqual([]);
    w.health.stop();
  });
});

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import { psql, startHarness, type Harness } from './harness.js';

/**
 * Five wrong passwords for a user, sent by anyone from that user's address,
 * used to lock the user's correct secret out for 300 s, repeatable forever.
 * Now failures are answered after a growing delay and a correct secret is
 * never refused or held back.
 */
describe('repeated failed sign-ins', () => {
  const clock = new ManualClock(new Date());
  let h: Harness;
  beforeAll(async () => {
    // Short delays so the test is quick; the gateway passes these through to the throttle.
    const authThrottle = { maxFailures: 3, windowMs: 60_000, baseDelayMs: 100, maxDelayMs: 400 };
    h = await startHarness({ clock, authThrottle });
  });
  afterAll(async () => h?.close());

  const connect = async (who: { user: string; secret: string }) => {
    const c = new pg.Client({ host: '127.0.0.1', port: h.port, user: who.user, password: who.secret, database: h.resource });
    await c.connect();
    return c;
  };

  /** One wrong-password attempt; resolves with how long the gateway took to answer it. */
  const guess = async (user: string): Promise<number> => {
    const started = performance.now();
    const c = new pg.Client({ host: '127.0.0.1', port: h.port, user, password: 'alk_guess', database: h.resource });
    await expect(c.connect()).rejects.toMatchObject({ code: '28P01' });
    return performance.now() - started;
  };

  it('never keep the owner of a correct secret out, however many failures someone sent from their address', async () => {
    const bob = h.grant(['read'], { expiresAt: new Date(clock.now().getTime() + 3600_000) });
    for (let i = 0; i < 8; i++) await guess(bob.user);
    // The attack of the old throttle: bob's own secret, from the same address, right after.
    const c = await connect(bob);
    expect((await c.query('select 1 as one')).rows[0].one).toBe(1);
    await c.end();
    // Still so while the attacker keeps going, in parallel with bob.
    const attack = Promise.all(Array.from({ length: 4 }, () => guess(bob.user)));
    const again = await connect(bob);
    await again.end();
    await attack;
    const ok = await psql(h, bob, ['-c', 'select 1']);
    expect(ok.stdout.trim()).toBe('1');
  });

  it('answer each failure past the allowance after a delay that grows, and say so in the audit', async () => {
    const alice = h.grant(['read'], { expiresAt: new Date(clock.now().getTime() + 3600_000) });
    const times: number[] = [];
    for (let i = 0; i < 6; i++) times.push(await guess(alice.user));
    // Failures 3 to 6 wait at least 100, 200, 400 and 400 ms (a timer never fires early; 400 is the cap).
    expect(times[2]).toBeGreaterThanOrEqual(95);
    expect(times[3]).toBeGreaterThanOrEqual(195);
    expect(times[4]).toBeGreaterThanOrEqual(395);
    expect(times[5]).toBeGreaterThanOrEqual(395);
    const whys = h.backend.authFailures.filter((f) => f.user === alice.user).map((f) => f.why);
    expect(whys.filter((w) => /^slowed/.test(w))).toHaveLength(1);
    // Once the window passes without failures the count starts over: a failure is answered at once again.
    clock.advance(60_000);
    const c = await connect(alice);
    await c.end();
    expect(await guess(alice.user)).toBeLessThan(95 + 2_000);
  });
});

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import { psql, startHarness, type Harness } from './harness.js';

describe('repeated failed sign-ins', () => {
  const clock = new ManualClock(new Date());
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ clock, authThrottle: { maxFailures: 3, windowMs: 60_000, lockoutMs: 120_000 } });
  });
  afterAll(async () => h?.close());

  it('are refused for a while with 28000, audited, then allowed again once the lockout passes', async () => {
    const alice = h.grant(['read'], { expiresAt: new Date(clock.now().getTime() + 3600_000) });
    for (let i = 0; i < 3; i++) {
      const r = await psql(h, { user: alice.user, secret: 'alk_guess' }, ['-c', 'select 1']);
      expect(r.stderr).toContain('password authentication failed');
    }
    const locked = new pg.Client({ host: '127.0.0.1', port: h.port, user: alice.user, password: alice.secret, database: h.resource });
    await expect(locked.connect()).rejects.toMatchObject({ code: '28000', message: expect.stringContaining(`too many failed sign-ins for "${alice.user}"`) });
    expect(h.backend.authFailures.filter((f) => f.user === alice.user).map((f) => f.why)).toEqual(
      expect.arrayContaining([expect.stringMatching(/locked out/), expect.stringMatching(/too many/)]),
    );
    clock.advance(120_000);
    const ok = await psql(h, alice, ['-c', 'select 1']);
    expect(ok.stdout.trim()).toBe('1');
  });
});

import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { createEventBus } from '../../src/core/events.js';
import { startExpiryScheduler } from '../../src/core/expiry.js';

describe('the expiry scheduler', () => {
  it('tries again after a failed run instead of waiting for the next request', async () => {
    const clock = new ManualClock('2026-03-01T12:00:00Z');
    const deadline = new Date('2026-03-01T12:10:00Z');
    let runs = 0;
    let expired = false;
    const errors: unknown[] = [];
    const scheduler = startExpiryScheduler(
      clock,
      createEventBus(),
      {
        async expireDue() {
          runs += 1;
          if (runs === 2) throw new Error('SQLITE_BUSY: database is locked');
          if (clock.now() >= deadline) expired = true;
        },
        nextDeadline: async () => (expired ? null : deadline),
      },
      (err) => errors.push(err),
    );
    await scheduler.kick();
    clock.advance(10 * 60_000);
    await scheduler.idle();
    expect(errors).toHaveLength(1);
    expect(expired).toBe(false);
    clock.advance(1000);
    await scheduler.idle();
    expect(expired).toBe(true);
    scheduler.stop();
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../../src/core/clock.js';
import { DeadlineWatch } from '../../src/core/deadline-watch.js';
import { findGrant } from '../../src/store/grants.js';
import { createWorld, type World } from '../support/world.js';

const SECOND = 1000;
const MIN = 60 * SECOND;
const HOUR = 60 * MIN;

describe('a wall-clock deadline when the wall clock jumps', () => {
  it('fires within a second of a forward jump past it, not when the monotonic timer would have', () => {
    const clock = new ManualClock('2026-03-01T12:00:00Z');
    const fired: string[] = [];
    clock.at(new Date('2026-03-01T14:00:00Z'), () => fired.push(clock.now().toISOString()));
    clock.advance(10 * SECOND);
    clock.jumpWallClock(2 * HOUR);
    expect(fired).toEqual([]);
    clock.advance(SECOND);
    expect(fired).toEqual(['2026-03-01T14:00:11.000Z']);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('never fires early when the wall clock steps back, and fires within a second once the wall clock reaches it', () => {
    const clock = new ManualClock('2026-03-01T12:00:00Z');
    const fired: string[] = [];
    clock.at(new Date('2026-03-01T12:00:10Z'), () => fired.push(clock.now().toISOString()));
    clock.jumpWallClock(-HOUR);
    clock.advance(HOUR);
    expect(clock.now().toISOString()).toBe('2026-03-01T12:00:00.000Z');
    expect(fired).toEqual([]);
    clock.advance(10 * SECOND - 1);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toHaveLength(1);
    expect(Date.parse(fired[0]!) - Date.parse('2026-03-01T12:00:10Z')).toBeLessThanOrEqual(SECOND);
  });

  it('keeps deadlines in time order and fires each at its own time when nothing jumps', () => {
    const clock = new ManualClock('2026-03-01T12:00:00Z');
    const fired: string[] = [];
    const at = (iso: string, name: string) => clock.at(new Date(iso), () => fired.push(`${name}@${clock.now().toISOString().slice(11, 23)}`));
    at('2026-03-01T12:30:00.250Z', 'b');
    at('2026-03-01T12:00:00.400Z', 'a');
    const cancel = at('2026-03-01T12:10:00Z', 'never');
    at('2026-03-01T12:30:00.250Z', 'c');
    cancel();
    clock.advance(HOUR);
    expect(fired).toEqual(['a@12:00:00.400', 'b@12:30:00.250', 'c@12:30:00.250']);
  });

  it('runs a length of time (`after`) on elapsed time, whatever the wall clock does', () => {
    const clock = new ManualClock('2026-03-01T12:00:00Z');
    let fired = 0;
    clock.after(5 * SECOND, () => fired++);
    clock.jumpWallClock(-HOUR);
    clock.advance(5 * SECOND - 1);
    expect(fired).toBe(0);
    clock.advance(1);
    expect(fired).toBe(1);
  });

  it('re-reads the wall clock on real timers: a deadline an hour away fires soon after the wall clock steps an hour on', async () => {
    let offsetMs = 0;
    const monotonic = (ms: number, fn: () => void) => {
      const t = setTimeout(fn, ms);
      return () => clearTimeout(t);
    };
    // The real clock's code path, with a wall clock the test can step and a short check interval to stay fast.
    const watch = new DeadlineWatch(() => Date.now() + offsetMs, monotonic, 20);
    const deadline = Date.now() + HOUR;
    const fired = new Promise<number>((resolve) => watch.at(new Date(deadline), () => resolve(Date.now() + offsetMs)));
    offsetMs = HOUR + 5;
    // Without the re-check this waits the whole hour on the monotonic timer (the test times out).
    expect(await fired).toBeGreaterThanOrEqual(deadline);
    expect(watch.size).toBe(0);
  });

  it('the system clock fires a deadline already passed, without holding the process open', async () => {
    const fired = await new Promise<boolean>((resolve) => systemClock.at(new Date(Date.now() - 1), () => resolve(true)));
    expect(fired).toBe(true);
  });
});

describe('grants when the wall clock jumps', () => {
  let w: World;
  afterEach(async () => {
    await w?.close();
  });

  it('a forward jump past expires_at ends the grant within a second, recorded at its own end', async () => {
    w = await createWorld();
    const { grant } = await w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'read', durationSeconds: 30 * 60, reason: 'INC-1' });
    await w.advance(MIN);
    w.clock.jumpWallClock(2 * HOUR);
    await w.advance(SECOND);
    const after = await findGrant(w.store.db, grant!.id);
    expect(after?.state).toBe('expired');
    expect(after?.endedAt?.toISOString()).toBe(grant!.expiresAt.toISOString());
    expect(w.events.some((e) => e.type === 'grant.ended' && e.grant.id === grant!.id && e.reason === 'expired')).toBe(true);
  });

  it('a backward jump never ends a grant before its expires_at on the wall clock', async () => {
    w = await createWorld();
    const { grant } = await w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'read', durationSeconds: 30 * 60, reason: 'INC-1' });
    w.clock.jumpWallClock(-HOUR);
    await w.advance(HOUR + 30 * MIN - SECOND);
    expect((await findGrant(w.store.db, grant!.id))?.state).toBe('active');
    await w.advance(SECOND);
    expect((await findGrant(w.store.db, grant!.id))?.state).toBe('expired');
  });

  it('a forward jump past a review deadline expires the pending request within a second', async () => {
    w = await createWorld();
    const { request } = await w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'write', durationSeconds: 600, reason: 'r', ticket: 'INC-2' });
    await w.expiry.idle();
    w.clock.jumpWallClock(HOUR);
    await w.advance(SECOND);
    const row = await w.store.db.selectFrom('requests').select('state').where('id', '=', request.id).executeTakeFirstOrThrow();
    expect(row.state).toBe('expired');
  });
});

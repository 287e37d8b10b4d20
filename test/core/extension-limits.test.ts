import { afterEach, describe, expect, it } from 'vitest';
import { AirlockError } from '../../src/core/errors.js';
import { findGrant } from '../../src/store/grants.js';
import { createWorld, EXAMPLE_CONFIG, type World } from '../support/world.js';

const MIN = 60;
const HOUR = 3600;
const worlds: World[] = [];
afterEach(async () => {
  for (const w of worlds.splice(0)) await w.close();
});

async function world(config = EXAMPLE_CONFIG): Promise<World> {
  const w = await createWorld(config);
  worlds.push(w);
  return w;
}

async function refusal(p: Promise<unknown>): Promise<AirlockError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AirlockError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

/** The example config with the write policy's own 2h cap removed, so the resource's 4h is the tightest. */
const WRITE_CAPPED_BY_RESOURCE = EXAMPLE_CONFIG.replace('    max_duration: 2h\n', '');

describe("a grant's whole life stays within its maximums", () => {
  it('refuses an extension that would stack a read grant past the policy maximum, naming it and the time used', async () => {
    const w = await world();
    const { grant } = await w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'read', durationSeconds: 30 * MIN, reason: 'INC-1' });
    await w.advance(10 * MIN * 1000);
    const err = await refusal(w.lifecycle.extend(w.user('alice'), grant!.id, HOUR));
    expect(err.code).toBe('extension_too_long');
    expect(err.kind).toBe('invalid');
    expect(err.message).toContain('the maximum is 1h, set by policy "oncall-reads-prod"');
    expect(err.message).toContain('it has already used 30m of it');
    expect(err.message).toContain('it can be extended by at most 30m');
    expect(err.details).toMatchObject({
      max_duration: '1h',
      max_duration_seconds: HOUR,
      max_set_by: { kind: 'policy', policy: 'oncall-reads-prod' },
      used: '30m',
      used_seconds: 30 * MIN,
      extendable_seconds: 30 * MIN,
    });
    expect((await findGrant(w.store.db, grant!.id))?.expiresAt.toISOString()).toBe('2026-03-01T12:30:00.000Z');
  });

  it('lets extensions fill the maximum exactly, and refuses the next one however small', async () => {
    const w = await world();
    const { grant } = await w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'read', durationSeconds: 30 * MIN, reason: 'INC-1' });
    await w.lifecycle.extend(w.user('alice'), grant!.id, 15 * MIN);
    const { grant: full } = await w.lifecycle.extend(w.user('alice'), grant!.id, 15 * MIN);
    expect(full?.expiresAt.toISOString()).toBe('2026-03-01T13:00:00.000Z');
    const err = await refusal(w.lifecycle.extend(w.user('alice'), grant!.id, 60));
    expect(err.code).toBe('extension_too_long');
    expect(err.message).toContain('it has already used 1h of it');
    expect(err.message).toContain('request new access');
    expect(w.events.filter((e) => e.type === 'grant.extended')).toHaveLength(2);
  });

  it('names the role as the source when the role cap is the tightest', async () => {
    const w = await world();
    const { request } = await w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'admin', durationSeconds: 20 * MIN });
    await w.lifecycle.approve(w.user('bob'), request.id);
    const { grant } = await w.lifecycle.approve(w.user('carol'), request.id);
    const err = await refusal(w.lifecycle.extend(w.user('alice'), grant!.id, 15 * MIN));
    expect(err.code).toBe('extension_too_long');
    expect(err.message).toContain('the maximum is 30m, set by role "admin" on orders-db');
    expect(err.message).toContain('it has already used 20m of it');
  });

  it('names the resource as the source when the resource cap is the tightest', async () => {
    const w = await world(WRITE_CAPPED_BY_RESOURCE);
    const ask = { resource: 'orders-db', role: 'write', durationSeconds: 3 * HOUR, reason: 'fix', ticket: 'INC-7' };
    const { request } = await w.lifecycle.request(w.user('alice'), ask);
    const { grant } = await w.lifecycle.approve(w.user('bob'), request.id);
    const err = await refusal(w.lifecycle.extend(w.user('alice'), grant!.id, 90 * MIN));
    expect(err.message).toContain('the maximum is 4h, set by resource orders-db');
    expect(err.message).toContain('it has already used 3h of it');
  });

  it('checks again when the approval lands: two pending extensions cannot together pass the maximum', async () => {
    const w = await world(WRITE_CAPPED_BY_RESOURCE);
    const ask = { resource: 'orders-db', role: 'write', durationSeconds: 2 * HOUR, reason: 'fix', ticket: 'INC-7' };
    const { request } = await w.lifecycle.request(w.user('alice'), ask);
    const { grant } = await w.lifecycle.approve(w.user('bob'), request.id);
    const first = await w.lifecycle.extend(w.user('alice'), grant!.id, 90 * MIN);
    const second = await w.lifecycle.extend(w.user('alice'), grant!.id, 90 * MIN);
    expect(first.request.state).toBe('pending');
    expect(second.request.state).toBe('pending');
    const approved = await w.lifecycle.approve(w.user('bob'), first.request.id);
    expect(approved.grant?.expiresAt.toISOString()).toBe('2026-03-01T15:30:00.000Z');
    const err = await refusal(w.lifecycle.approve(w.user('bob'), second.request.id));
    expect(err.code).toBe('extension_too_long');
    expect(err.message).toContain('it has already used 3h30m of it');
    expect((await findGrant(w.store.db, grant!.id))?.expiresAt.toISOString()).toBe('2026-03-01T15:30:00.000Z');
  });
});

describe('a request over a maximum names where the maximum comes from', () => {
  it('names the policy, not the role, when the policy sets the cap', async () => {
    const w = await world();
    const err = await refusal(w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'read', durationSeconds: 2 * HOUR }));
    expect(err.code).toBe('duration_too_long');
    expect(err.message).toBe('2h is longer than allowed for role "read" on orders-db: the maximum is 1h, set by policy "oncall-reads-prod"');
    expect(err.details).toMatchObject({ max_duration: '1h', max_set_by: { kind: 'policy', policy: 'oncall-reads-prod' } });
  });

  it('names the role when the role sets the cap', async () => {
    const w = await world();
    const err = await refusal(w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'admin', durationSeconds: HOUR }));
    expect(err.message).toContain('the maximum is 30m, set by role "admin" on orders-db');
  });

  it('names the resource when the resource sets the cap', async () => {
    const w = await world(WRITE_CAPPED_BY_RESOURCE);
    const err = await refusal(
      w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'write', durationSeconds: 5 * HOUR, reason: 'fix', ticket: 'INC-7' }),
    );
    expect(err.message).toContain('the maximum is 4h, set by resource orders-db');
  });
});

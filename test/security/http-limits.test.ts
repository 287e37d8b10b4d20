import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAirlock, type Airlock } from './support.js';

let air: Airlock;

beforeAll(async () => {
  air = await startAirlock({});
});

afterAll(async () => {
  await air?.stop();
});

describe('HTTP API limits against unauthenticated floods', () => {
  it('stops writing auth.failed events for an address after a bounded number of failures, while valid tokens keep working', async () => {
    const count = async () => ((await (await air.api('root', '/api/audit?action=auth.*&limit=10000')).json()) as unknown[]).length;
    const before = await count();
    const statuses = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const r = await fetch(`${air.server.url}/api/whoami/${'x'.repeat(2000)}`, { headers: { authorization: `Bearer airlock_tok_000000000000_${i}` } });
      statuses.add(r.status);
      await r.body?.cancel();
    }
    expect(await count() - before).toBeLessThanOrEqual(10);
    expect(statuses).toEqual(new Set([401, 429]));
    expect((await air.api('root', '/api/whoami')).status).toBe(200);
    const events = (await (await air.api('root', '/api/audit?action=auth.*&limit=20')).json()) as Array<{ action: string; details: { path: string } }>;
    expect(events.map((e) => e.action)).toContain('auth.locked_out');
    expect(Math.max(...events.map((e) => e.details.path.length))).toBeLessThanOrEqual(200);
  });

  it('answers 413 for a 32 MB body instead of buffering and parsing it', async () => {
    const r = await air.api('mallory', '/api/requests', { method: 'POST', body: `"${'a'.repeat(32 * 1024 * 1024)}"` });
    expect(r.status).toBe(413);
    expect(await r.json()).toMatchObject({ error: { code: 'body_too_large' } });
  });
});

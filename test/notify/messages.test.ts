import { describe, expect, it } from 'vitest';
import type { Grant } from '../../src/core/model.js';
import { exponentialBackoff } from '../../src/notify/backoff.js';
import { describeEvent } from '../../src/notify/messages.js';
import { slackPayload } from '../../src/notify/slack.js';
import { signWebhook, verifyWebhook } from '../../src/notify/webhook-signature.js';

const now = new Date('2026-03-01T14:00:00Z');
const grant: Grant = {
  id: 'grt_1', requestId: 'req_1', user: 'alice', resource: 'orders-db', role: 'read', policy: 'p', reason: 'slow checkout', ticket: 'INC-4411',
  approvedBy: ['bob'], startsAt: now, expiresAt: new Date('2026-03-01T14:32:00Z'), state: 'active', endedAt: null, endedBy: null, endReason: null,
};

describe('notification text', () => {
  it('reads well in a channel', () => {
    expect(describeEvent({ type: 'grant.activated', grant }, now)).toBe('alice has READ on orders-db until 14:32 UTC — INC-4411 slow checkout, approved by bob');
    expect(describeEvent({ type: 'grant.ended', grant, reason: 'revoked', by: 'carol', why: 'incident closed' }, now)).toBe("carol revoked alice's READ on orders-db: incident closed");
    expect(describeEvent({ type: 'grant.ended', grant, reason: 'expired', by: null, why: null }, now)).toBe("alice's READ on orders-db expired at 14:32 UTC");
    expect(describeEvent({ type: 'grant.activated', grant: { ...grant, expiresAt: new Date('2026-03-02T01:00:00Z') } }, now)).toContain('until Mar 2 01:00 UTC');
  });

  it('escapes user text for Slack so a reason cannot ping the channel or forge a link', () => {
    const body = slackPayload({ type: 'grant.activated', grant: { ...grant, reason: '<!channel> see <https://evil|docs> & more' } }, now)!;
    expect(body.text).toContain('&lt;!channel&gt; see &lt;https://evil|docs&gt; &amp; more');
    expect(body.text).not.toContain('<!channel>');
  });
});

describe('webhook signatures', () => {
  it('verifies its own signature and refuses a wrong secret, a changed body, a stale time and garbage', () => {
    const at = new Date('2026-03-01T14:00:00Z');
    const header = signWebhook('s3cret', '{"a":1}', at);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifyWebhook('s3cret', header, '{"a":1}', at)).toMatchObject({ ok: true });
    expect(verifyWebhook('other', header, '{"a":1}', at)).toEqual({ ok: false, code: 'bad_signature' });
    expect(verifyWebhook('s3cret', header, '{"a":2}', at)).toEqual({ ok: false, code: 'bad_signature' });
    expect(verifyWebhook('s3cret', header, '{"a":1}', new Date(at.getTime() + 600_000))).toEqual({ ok: false, code: 'stale_signature' });
    expect(verifyWebhook('s3cret', 'nonsense', '{"a":1}', at)).toEqual({ ok: false, code: 'malformed_signature' });
  });
});

describe('backoff', () => {
  it('doubles from one second up to its cap, with jitter never above the full delay', () => {
    const full = exponentialBackoff({ random: () => 1 });
    expect([1, 2, 3, 4, 11, 30].map((n) => full.delayMs(n))).toEqual([1000, 2000, 4000, 8000, 900_000, 900_000]);
    const half = exponentialBackoff({ random: () => 0 });
    expect(half.delayMs(3)).toBe(2000);
  });
});

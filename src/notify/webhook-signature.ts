import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-airlock-signature';
export const EVENT_ID_HEADER = 'x-airlock-event-id';

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. The timestamp
 * is inside the MAC so a captured delivery cannot be replayed later with a
 * fresh time; receivers reject anything outside their tolerance window.
 */
export function signWebhook(secret: string, body: string, at: Date): string {
  const t = Math.floor(at.getTime() / 1000);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

export type SignatureCheck =
  | { readonly ok: true; readonly timestamp: number }
  | { readonly ok: false; readonly code: 'malformed_signature' | 'stale_signature' | 'bad_signature' };

/** What a receiver runs: constant-time comparison, and a replay window (default five minutes). */
export function verifyWebhook(secret: string, header: string | undefined | null, body: string, now: Date, toleranceSeconds = 300): SignatureCheck {
  const parts = new Map((header ?? '').split(',').map((kv) => kv.trim().split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1');
  if (!Number.isInteger(t) || !v1 || !/^[0-9a-f]{64}$/.test(v1)) return { ok: false, code: 'malformed_signature' };
  if (Math.abs(now.getTime() / 1000 - t) > toleranceSeconds) return { ok: false, code: 'stale_signature' };
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(v1, 'hex')) ? { ok: true, timestamp: t } : { ok: false, code: 'bad_signature' };
}

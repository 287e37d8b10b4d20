import type { OutboxRow } from './outbox-store.js';
import type { Sink } from './sinks.js';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signWebhook } from './webhook-signature.js';
import { eventIdFor } from './outbox-writer.js';

export type SendResult = { readonly ok: true } | { readonly ok: false; readonly code: string; readonly error: string };

/**
 * One delivery attempt. Errors are described without the URL (a Slack
 * webhook URL is a credential) and without the response body (a receiver's
 * error page is not ours to store).
 */
export async function sendRow(sink: Sink, row: OutboxRow, now: Date, fetchImpl: typeof fetch, timeoutMs: number): Promise<SendResult> {
  const url = sink.url();
  if (!url) return { ok: false, code: 'notify_url_missing', error: `${sink.label}: no URL (is its url_env set?)` };
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'airlock-notifier/0.1' };
  if (sink.kind === 'webhook') {
    headers[EVENT_ID_HEADER] = row.audit_seq >= 0 ? eventIdFor(row.audit_seq) : `evt_outbox_${row.id}`;
    headers['x-airlock-event-type'] = row.event_type;
    headers['x-airlock-delivery-attempt'] = String(row.attempts + 1);
    if (sink.signed) {
      const secret = sink.secret();
      // Never send unsigned what receivers expect signed: wait for the secret instead.
      if (!secret) return { ok: false, code: 'notify_secret_missing', error: `${sink.label}: its secret_env is not set` };
      headers[SIGNATURE_HEADER] = signWebhook(secret, row.payload, now);
    }
  }
  try {
    const res = await fetchImpl(url, { method: 'POST', headers, body: row.payload, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
    await res.body?.cancel().catch(() => {});
    if (res.ok) return { ok: true };
    return { ok: false, code: 'notify_http_status', error: `HTTP ${res.status}` };
  } catch (err) {
    if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
      return { ok: false, code: 'notify_timeout', error: `no answer within ${timeoutMs} ms` };
    }
    const cause = err instanceof Error ? (err.cause as { code?: string } | undefined) : undefined;
    return { ok: false, code: 'notify_unreachable', error: cause?.code ?? 'connection failed' };
  }
}

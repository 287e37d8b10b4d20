import type { HttpRefusalCode } from './request-check.js';

/**
 * A refusal as the client reads it: 403 (or 413, 502, 503) with a JSON body
 * `{ "error": { "code", "message" } }` like the Airlock API, or a small HTML
 * page when the client is a browser asking for HTML. The message names the
 * role and what it does not allow; it never carries a credential.
 */

export type GatewayRefusalCode =
  | HttpRefusalCode
  | 'http_unauthenticated'
  | 'http_session_ended'
  | 'http_audit_unavailable'
  | 'http_upstream_unreachable'
  | 'http_credential_missing'
  | 'http_not_found'
  | 'http_store_unavailable';

export interface RenderedRefusal {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export function refusalMessage(resource: string, role: string, what: string): string {
  return `airlock: role "${role}" on ${resource} does not allow ${what}`;
}

export function renderRefusal(status: number, code: GatewayRefusalCode, message: string, accept: string | undefined): RenderedRefusal {
  if (prefersHtml(accept)) {
    const body =
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Refused by Airlock</title></head>` +
      `<body><h1>Refused by Airlock</h1><p>${escapeHtml(message)}</p><p><code>${code}</code></p></body></html>\n`;
    return { status, headers: { 'content-type': 'text/html; charset=utf-8', ...NO_STORE }, body };
  }
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...NO_STORE }, body: JSON.stringify({ error: { code, message } }) + '\n' };
}

const NO_STORE = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

/** HTML only when the client ranks text/html above application/json (a browser navigating); JSON otherwise. */
function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  let html = -1;
  let json = -1;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) || 0 : 1;
    if (type === 'text/html') html = Math.max(html, q);
    if (type === 'application/json') json = Math.max(json, q);
  }
  return html > 0 && html > json;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

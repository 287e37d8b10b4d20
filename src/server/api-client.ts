import type { AuditEvent, VerifyResult } from '../audit/chain.js';
import { readEventStream, type StreamEvent } from './event-stream-client.js';
import type { NodeView } from './routes/nodes.js';
import type { ResourceCheck } from './routes/resource-check.js';
import type { TokenView } from './routes/tokens.js';
import type { GrantView, RequestView, SessionView } from './views.js';

export interface RequestOutcomeView {
  readonly request: RequestView;
  readonly grant: GrantView | null;
}

export interface ResourceView {
  readonly resource: string;
  readonly kind: string;
  readonly labels: Record<string, string>;
  readonly role: string;
  readonly allow: string[];
  readonly approval: string;
  readonly approval_needed: boolean;
  readonly max_duration: string;
  readonly policies: string[];
  readonly requires: { reason: boolean; ticket: string | null };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Query = Record<string, string | number | boolean | undefined>;

/** The one typed client of the HTTP API, used by the CLI (and by tests as a user would). */
export function createApiClient(server: string, token: string, fetchImpl: typeof fetch = fetch) {
  const base = server.replace(/\/+$/, '');

  async function call<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
    const qs = query
      ? Object.entries(query)
          .filter(([, v]) => v !== undefined && v !== false && v !== '')
          .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
          .join('&')
      : '';
    let res: Response;
    try {
      res = await fetchImpl(`${base}${path}${qs ? `?${qs}` : ''}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError(0, 'unreachable', `cannot reach the Airlock server at ${base}: ${(err as Error).cause ?? (err as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok) {
      let code = 'http_error';
      let message = `${method} ${path} failed with HTTP ${res.status}`;
      try {
        const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
        code = parsed.error?.code ?? code;
        message = parsed.error?.message ?? message;
      } catch {
        // not JSON: keep the generic message
      }
      throw new ApiError(res.status, code, message);
    }
    return (res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text) as T;
  }

  return {
    whoami: () => call<{ user: string; groups: string[]; admin: boolean; auditor: boolean; scope: string; via: string }>('GET', '/api/whoami'),
    tokens: (q: { all?: boolean; user?: string; ended?: boolean } = {}) => call<TokenView[]>('GET', '/api/tokens', undefined, q),
    issueToken: (t: { name: string; scope?: string; expires?: string; user?: string }) => call<TokenView & { token: string }>('POST', '/api/tokens', t),
    revokeToken: (id: string) => call<TokenView>('POST', `/api/tokens/${encodeURIComponent(id)}/revoke`, {}),
    resources: () => call<ResourceView[]>('GET', '/api/resources'),
    /** Admins: logs in upstream with each role's credential (one resource, or all) and says what works. */
    checkResources: (resource?: string) => call<{ resources: ResourceCheck[] }>('POST', '/api/resources/check', { resource }),
    request: (ask: { resource: string; role: string; duration: string; reason?: string; ticket?: string }) =>
      call<RequestOutcomeView>('POST', '/api/requests', ask),
    requests: (pending = false) => call<Array<RequestView & { can_review: boolean }>>('GET', '/api/requests', undefined, { pending }),
    getRequest: (id: string) => call<RequestView>('GET', `/api/requests/${encodeURIComponent(id)}`),
    approve: (id: string, comment?: string) => call<RequestOutcomeView>('POST', `/api/requests/${encodeURIComponent(id)}/approve`, { comment }),
    deny: (id: string, comment: string) => call<RequestOutcomeView>('POST', `/api/requests/${encodeURIComponent(id)}/deny`, { comment }),
    cancel: (id: string) => call<RequestOutcomeView>('POST', `/api/requests/${encodeURIComponent(id)}/cancel`, {}),
    who: () => call<GrantView[]>('GET', '/api/who'),
    grants: (q: { all?: boolean; state?: string; user?: string; resource?: string } = {}) => call<GrantView[]>('GET', '/api/grants', undefined, q),
    getGrant: (id: string) => call<GrantView>('GET', `/api/grants/${encodeURIComponent(id)}`),
    extend: (id: string, duration: string, reason?: string) =>
      call<RequestOutcomeView>('POST', `/api/grants/${encodeURIComponent(id)}/extend`, { duration, reason }),
    release: (id: string) => call<{ grant: GrantView }>('POST', `/api/grants/${encodeURIComponent(id)}/release`, {}),
    revoke: (id: string, reason: string) => call<{ grant: GrantView }>('POST', `/api/grants/${encodeURIComponent(id)}/revoke`, { reason }),
    credentials: (id: string) => call<{ grant: GrantView; secret: string }>('POST', `/api/grants/${encodeURIComponent(id)}/credentials`, {}),
    audit: (q: { user?: string; resource?: string; action?: string; since?: string; limit?: number; target?: string; after?: number; order?: 'asc' | 'desc' } = {}) =>
      call<AuditEvent[]>('GET', '/api/audit', undefined, q),
    auditExport: (q: { since?: string } = {}) => call<string>('GET', '/api/audit/export', undefined, q),
    auditVerify: () => call<VerifyResult>('GET', '/api/audit/verify'),
    sessions: (q: { live?: boolean; user?: string; limit?: number } = {}) => call<SessionView[]>('GET', '/api/sessions', undefined, q),
    nodes: () => call<NodeView[]>('GET', '/api/nodes'),
    connectInfo: (resource: string) =>
      call<{ kind: string; host: string; port: number; user: string; database: string; tls?: boolean }>('GET', `/api/connect/${encodeURIComponent(resource)}`),
    session: (id: string) => call<{ session: SessionView; events: AuditEvent[] }>('GET', `/api/sessions/${encodeURIComponent(id)}`),
    /** Prometheus text of GET /metrics. */
    metrics: () => call<string>('GET', '/metrics'),
    /**
     * The live change stream (GET /api/events). `after` resumes from an event
     * id (sent as Last-Event-ID); the iterator ends when the server closes the
     * stream or `signal` aborts.
     */
    async events(opts: { after?: string | null; signal?: AbortSignal } = {}): Promise<AsyncGenerator<StreamEvent>> {
      let res: Response;
      try {
        res = await fetchImpl(`${base}/api/events`, {
          headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...(opts.after ? { 'last-event-id': opts.after } : {}) },
          signal: opts.signal,
        });
      } catch (err) {
        if ((err as Error).name === 'AbortError') throw err;
        throw new ApiError(0, 'unreachable', `cannot reach the Airlock server at ${base}: ${(err as Error).cause ?? (err as Error).message}`);
      }
      if (!res.ok || !res.body) {
        const parsed = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
        throw new ApiError(res.status, parsed.error?.code ?? 'http_error', parsed.error?.message ?? `GET /api/events failed with HTTP ${res.status}`);
      }
      return readEventStream(res.body);
    },
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Resource, Role } from '../../core/model.js';
import { startExchange, type Exchange } from './exchange.js';
import { FORM_SCAN_BYTES, formKind, hasFormOverride, readWhole } from './form-override.js';
import { GRACE_MS, IDLE_GRACE_MS, type HttpSession, type TrackedConnection } from './http-session.js';
import { redactQuery } from './query-redaction.js';
import { type GatewayRefusalCode, refusalMessage, renderRefusal } from './refusal.js';
import { checkRequest, type CheckedRequest, type RefusedRequest } from './request-check.js';
import type { HttpRequestIntent, HttpRequestLog, HttpRequestOutcome } from './request-record.js';
import { compileScope, type CompiledScope } from './rules.js';
import { CredentialMissing, credentialHeader } from './upstream-credential.js';
import { upstreamTarget, type UpstreamTarget } from './upstream-target.js';
import { startWebSocket, type WebSocketRelay } from './websocket-relay.js';

/**
 * The HTTP gateway for one resource: one listener (port-per-resource, see
 * README "HTTP resources"), each request authorised, checked against the role,
 * recorded before it is forwarded, and every connection held in its session so
 * a cut closes them all. Node's own HTTP parser (llhttp, strict) frames the
 * client side; Node's HTTP client re-frames the upstream side, so no request
 * bytes are relayed unparsed.
 */

export interface HttpAccess {
  readonly resource: Resource;
  readonly role: Role;
  readonly session: HttpSession;
  readonly log: HttpRequestLog;
  /** The upstream credential's value (read by the control plane from the role's variable); never logged. */
  readonly credentialValue: string | undefined;
}

export interface AccessRefused {
  readonly refused: { readonly status: number; readonly code: GatewayRefusalCode; readonly message: string; readonly headers?: Record<string, string> };
}

export interface HttpGatewayOptions {
  /** Who sends this request: the resource, role and session it runs under, or why not. */
  readonly authorize: (req: IncomingMessage) => Promise<HttpAccess | AccessRefused>;
  /** The gateway's own paths (`/.airlock/…`); never forwarded, whatever this answers. */
  readonly ownPaths?: (req: IncomingMessage, res: ServerResponse) => void;
  /** Airlock's cookie names, never forwarded upstream. */
  readonly airlockCookies?: readonly string[];
  /** HTTPS to clients (`gateway.http.tls`); plain HTTP without it. */
  readonly tls?: { readonly cert: string; readonly key: string } | null;
  readonly now?: () => Date;
}

export interface HttpGateway {
  readonly server: http.Server | https.Server;
  listen(port: number, host: string): Promise<AddressInfo>;
  close(): Promise<void>;
}

/** The first decoded path segment that marks the gateway's own paths (`/.airlock/…`, also as `/%2Eairlock/…`). */
export const OWN_SEGMENT = '.airlock';

interface ConnectionState extends TrackedConnection {
  readonly exchanges: Set<Exchange>;
  readonly pending: Set<ServerResponse>;
  websocket: WebSocketRelay | null;
}

export function createHttpGateway(options: HttpGatewayOptions): HttpGateway {
  const now = options.now ?? (() => new Date());
  const airlockCookies = options.airlockCookies ?? [];
  // Keyed by the config objects themselves: a reloaded resource or role gets its own entry.
  const rulesByRole = new WeakMap<Role, CompiledScope>();
  const upstreams = new Map<Resource, UpstreamTarget>();
  const connections = new WeakMap<Duplex, ConnectionState>();

  const rulesOf = (role: Role): CompiledScope => {
    let rules = rulesByRole.get(role);
    if (!rules) rulesByRole.set(role, (rules = compileScope(role.http ?? { allow: [], deny: [] })));
    return rules;
  };
  const upstreamOf = (resource: Resource): UpstreamTarget => {
    let target = upstreams.get(resource);
    if (!target) upstreams.set(resource, (target = upstreamTarget(resource)));
    return target;
  };

  const stateOf = (socket: Duplex): ConnectionState => {
    let state = connections.get(socket);
    if (!state) {
      const s: ConnectionState = { socket, exchanges: new Set(), pending: new Set(), websocket: null };
      s.onCut = (message) => cutConnection(s, message);
      connections.set(socket, (state = s));
    }
    return state;
  };

  const parsing = { requireHostHeader: true, insecureHTTPParser: false } as const;
  // Same parser and events either way: TLS only wraps the connection (HTTP/1.1 only, no ALPN h2).
  const server = options.tls ? https.createServer({ ...parsing, cert: options.tls.cert, key: options.tls.key }) : http.createServer(parsing);

  const handle = (req: IncomingMessage, res: ServerResponse, expectContinue: boolean): void => {
    void handleRequest(req, res, expectContinue).catch(() => {
      if (!res.headersSent) send(res, req, 502, 'http_upstream_unreachable', 'airlock: the request failed in the gateway');
      else res.destroy();
    });
  };

  const handleRequest = async (req: IncomingMessage, res: ServerResponse, expectContinue: boolean): Promise<void> => {
    let continueSent = !expectContinue;
    const startedAt = now();
    if (isOwnPath(req.url ?? '')) {
      if (options.ownPaths) return options.ownPaths(req, res);
      return send(res, req, 404, 'http_not_found', 'airlock: no such gateway path', true);
    }
    const access = await options.authorize(req);
    if ('refused' in access) {
      const r = access.refused;
      return send(res, req, r.status, r.code, r.message, bodyPending(req), r.headers);
    }
    const { session, role, resource, log } = access;
    const upstream = upstreamOf(resource);
    if (session.ended) return send(res, req, 403, 'http_session_ended', session.endMessage!, true);
    const state = stateOf(req.socket);
    session.track(state);
    const scope = role.http;
    const checked = checkRequest(
      { method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders },
      { rules: rulesOf(role), limits: scope ?? {}, encodedSlash: upstream.encodedSlash },
    );
    const seq = session.nextSeq();
    if (!checked.allowed || checked.websocket) {
      // A WebSocket upgrade reaches here only without "Connection: upgrade": refuse rather than send it as plain GET.
      const refusal: RefusedRequest = checked.allowed
        ? { allowed: false, code: 'http_upgrade_refused', status: 403, what: 'an Upgrade header without "Connection: upgrade"', target: checked.target }
        : checked;
      log.outcome(refusedOutcome(req, seq, refusal, startedAt, now(), scope?.auditQueryValues ?? []), null);
      return send(res, req, refusal.status, refusal.code, refusalMessage(resource.name, role.name, refusal.what), bodyPending(req));
    }
    // A form body is read whole and judged before anything is forwarded (form-override.ts).
    let formBody: Buffer | undefined;
    const form = checked.contentLength === 0 ? null : formKind(req.rawHeaders);
    if (form) {
      if (!continueSent) res.writeContinue();
      continueSent = true;
      const body = await readWhole(req, Math.min(FORM_SCAN_BYTES, scope?.maxBodyBytes ?? Infinity));
      const refusal: RefusedRequest | null =
        body === null
          ? { allowed: false, code: 'http_body_too_large', status: 413, what: `a form body over ${Math.min(FORM_SCAN_BYTES, scope?.maxBodyBytes ?? Infinity)} bytes (a form is read whole before it is forwarded)`, target: checked.target }
          : hasFormOverride(form, body)
            ? { allowed: false, code: 'http_method_override', status: 403, what: 'a _method field in a form body (a method override is never forwarded)', target: checked.target }
            : null;
      if (refusal) {
        log.outcome(refusedOutcome(req, seq, refusal, startedAt, now(), scope?.auditQueryValues ?? []), null);
        return send(res, req, refusal.status, refusal.code, refusalMessage(resource.name, role.name, refusal.what), body === null);
      }
      formBody = body!;
    }
    const intent = intentOf(req, seq, checked, startedAt, scope?.auditQueryValues ?? []);
    state.pending.add(res);
    let handle: unknown;
    try {
      handle = await log.intent(intent);
    } catch {
      state.pending.delete(res);
      return send(res, req, 503, 'http_audit_unavailable', 'airlock: the audit log cannot be written, so nothing is forwarded', true);
    } finally {
      state.pending.delete(res);
    }
    if (session.ended || res.destroyed) {
      // On record but never forwarded: its outcome closes the intent.
      log.outcome(notForwarded(intent, now(), session.ended ? 'http_session_ended' : 'http_client_gone'), handle);
      return send(res, req, 403, 'http_session_ended', session.endMessage ?? 'airlock: session ended', true);
    }
    let credential: [string, string] | null;
    try {
      credential = credentialHeader(scope?.credential, access.credentialValue);
    } catch (err) {
      if (!(err instanceof CredentialMissing)) throw err;
      log.outcome({ ...notForwarded(intent, now(), 'http_credential_missing'), status: 502 }, handle);
      return send(res, req, 502, 'http_credential_missing', `airlock: ${resource.name}: ${err.message}`, true);
    }
    const exchange = startExchange({
      req,
      res,
      checked,
      intent,
      upstream,
      credential,
      airlockCookies,
      maxBodyBytes: scope?.maxBodyBytes,
      recordBodyBytes: scope?.recordBodyBytes,
      expectContinue: !continueSent,
      formBody,
      now,
      resource: resource.name,
      role: role.name,
      refuse: (status, code, message) => send(res, req, status, code, message, true),
      done: (outcome) => {
        state.exchanges.delete(exchange);
        log.outcome(outcome, handle);
      },
    });
    state.exchanges.add(exchange);
  };

  const handleUpgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    const startedAt = now();
    socket.on('error', () => socket.destroy());
    const access = await options.authorize(req);
    if ('refused' in access) return sendRaw(socket, req, access.refused.status, access.refused.code, access.refused.message, access.refused.headers);
    const { session, role, resource, log } = access;
    const upstream = upstreamOf(resource);
    if (session.ended) return sendRaw(socket, req, 403, 'http_session_ended', session.endMessage!);
    if (isOwnPath(req.url ?? '')) return sendRaw(socket, req, 404, 'http_not_found', 'airlock: no such gateway path');
    const state = stateOf(socket);
    session.track(state);
    const scope = role.http;
    const checked = checkRequest(
      { method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders },
      { rules: rulesOf(role), limits: scope ?? {}, encodedSlash: upstream.encodedSlash },
    );
    const seq = session.nextSeq();
    if (!checked.allowed) {
      log.outcome(refusedOutcome(req, seq, checked, startedAt, now(), scope?.auditQueryValues ?? []), null);
      return sendRaw(socket, req, checked.status, checked.code, refusalMessage(resource.name, role.name, checked.what));
    }
    const intent = intentOf(req, seq, checked, startedAt, scope?.auditQueryValues ?? []);
    let handle: unknown;
    try {
      handle = await log.intent(intent);
    } catch {
      return sendRaw(socket, req, 503, 'http_audit_unavailable', 'airlock: the audit log cannot be written, so nothing is forwarded');
    }
    if (session.ended || socket.destroyed) {
      log.outcome(notForwarded(intent, now(), session.ended ? 'http_session_ended' : 'http_client_gone'), handle);
      return void socket.destroy();
    }
    let credential: [string, string] | null;
    try {
      credential = credentialHeader(scope?.credential, access.credentialValue);
    } catch (err) {
      if (!(err instanceof CredentialMissing)) throw err;
      log.outcome({ ...notForwarded(intent, now(), 'http_credential_missing'), status: 502 }, handle);
      return sendRaw(socket, req, 502, 'http_credential_missing', `airlock: ${resource.name}: ${err.message}`);
    }
    state.websocket = startWebSocket({
      req, socket, head, checked, intent, upstream, credential, airlockCookies, now, resource: resource.name,
      done: (outcome) => log.outcome(outcome, handle),
    });
  };

  server.on('request', (req, res) => handle(req, res, false));
  // Expect: 100-continue is answered only once the request is allowed and recorded (exchange.ts), never before.
  server.on('checkContinue', (req, res) => handle(req, res, true));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void handleUpgrade(req, socket, head).catch(() => socket.destroy());
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable) return void socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const body = JSON.stringify({ error: { code: 'http_bad_request', message: `airlock: the request could not be read as HTTP/1.1 (${err.code ?? 'parse error'})` } });
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });

  return {
    server,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const u of upstreams.values()) u.close();
      });
    },
  };
}

function cutConnection(state: ConnectionState, message: string): number | false {
  if (state.websocket) return state.websocket.cut(message) && GRACE_MS;
  let said = false;
  for (const e of state.exchanges) said = e.abort(message) || said;
  if (said) return GRACE_MS;
  // A request still waiting for its audit record gets the reason.
  for (const res of state.pending) {
    if (!res.headersSent) {
      const r = renderRefusal(403, 'http_session_ended', message, res.req.headers.accept);
      res.writeHead(r.status, { ...r.headers, connection: 'close' }).end(r.body);
      said = true;
    }
  }
  if (said) return GRACE_MS;
  // Mid-response with nothing to say in the response's terms: dropped now.
  if (state.exchanges.size > 0) return false;
  // Idle: nothing is forwarded any more (the session has ended); a request the client sent as the
  // grant ended still gets the reason during the grace, instead of a reset.
  return IDLE_GRACE_MS;
}

function isOwnPath(url: string): boolean {
  const first = url.split(/[/?#]/)[1] ?? '';
  try {
    return decodeURIComponent(first).toLowerCase() === OWN_SEGMENT;
  } catch {
    return false;
  }
}

function bodyPending(req: IncomingMessage): boolean {
  return req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
}

function send(res: ServerResponse, req: IncomingMessage, status: number, code: GatewayRefusalCode, message: string, close = false, extra?: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return void res.destroy();
  const r = renderRefusal(status, code, message, req.headers.accept);
  // An unread body would otherwise be parsed as the next request's bytes: close instead of guessing.
  res.writeHead(r.status, { ...r.headers, ...extra, ...(close ? { connection: 'close' } : {}) });
  res.end(r.body);
}

function sendRaw(socket: Duplex, req: IncomingMessage, status: number, code: GatewayRefusalCode, message: string, extra?: Record<string, string>): void {
  if (socket.destroyed) return;
  const r = renderRefusal(status, code, message, req.headers.accept);
  const headers = { ...r.headers, ...extra, 'content-length': String(Buffer.byteLength(r.body)), connection: 'close' };
  const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n');
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\n${head}\r\n\r\n${r.body}`);
}

function intentOf(req: IncomingMessage, seq: number, checked: CheckedRequest, startedAt: Date, keep: readonly string[]): HttpRequestIntent {
  return {
    seq,
    method: req.method ?? '',
    path: checked.target.path,
    query: redactQuery(checked.target.rawQuery, keep),
    websocket: checked.websocket,
    rule: checked.rule,
    startedAt,
  };
}

function refusedOutcome(req: IncomingMessage, seq: number, r: RefusedRequest, startedAt: Date, at: Date, keep: readonly string[]): HttpRequestOutcome {
  return {
    seq,
    method: req.method ?? '',
    // An unreadable path is recorded as sent, without its query (which may carry secrets).
    path: r.target?.path ?? (req.url ?? '').split('?')[0]!.slice(0, 2048),
    query: r.target ? redactQuery(r.target.rawQuery, keep) : null,
    websocket: req.headers.upgrade !== undefined,
    rule: null,
    startedAt,
    status: r.status,
    refused: true,
    refusal: r.code,
    requestBytes: 0,
    responseBytes: 0,
    durationMs: at.getTime() - startedAt.getTime(),
    ended: 'complete',
  };
}

function notForwarded(intent: HttpRequestIntent, at: Date, refusal: GatewayRefusalCode | 'http_client_gone'): HttpRequestOutcome {
  return {
    ...intent,
    status: null,
    refused: true,
    refusal,
    requestBytes: 0,
    responseBytes: 0,
    durationMs: at.getTime() - intent.startedAt.getTime(),
    ended: refusal === 'http_client_gone' ? 'client_closed' : refusal === 'http_session_ended' ? 'cut' : 'upstream_error',
  };
}

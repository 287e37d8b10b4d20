import type { HttpScope } from '../../core/model.js';
import { readTarget, type RequestTarget, type TargetOptions } from './request-target.js';
import { type CompiledScope, judgeRequest, WEBSOCKET } from './rules.js';

/**
 * The whole decision on one request head, before a byte of it is forwarded:
 * framing that could desynchronise two parsers, headers that change what the
 * upstream does (method overrides, non-WebSocket upgrades), body limits, then
 * the path and the role's rules. Pure: the listener gives the head, this says
 * forward or refuse and why.
 */

export type HttpRefusalCode =
  | 'http_not_allowed'
  | 'http_path_refused'
  | 'http_method_override'
  | 'http_method_refused'
  | 'http_framing_refused'
  | 'http_upgrade_refused'
  | 'http_host_refused'
  | 'http_content_type_refused'
  | 'http_body_too_large';

export interface RequestHead {
  readonly method: string;
  readonly url: string;
  /** Node's rawHeaders: name, value, name, value… as received (duplicates kept). */
  readonly rawHeaders: readonly string[];
}

export interface CheckedRequest {
  readonly allowed: true;
  readonly target: RequestTarget;
  /** The method rules saw: the request's own, or WEBSOCKET for an upgrade. */
  readonly ruleMethod: string;
  readonly rule: string;
  /** Declared body length; null for a chunked body. 0 when there is no body. */
  readonly contentLength: number | null;
  readonly websocket: boolean;
}

export interface RefusedRequest {
  readonly allowed: false;
  readonly code: HttpRefusalCode;
  readonly status: 403 | 413;
  /** What the role (or the gateway) does not allow, for the person reading the refusal. */
  readonly what: string;
  /** Set once the path was read, so the audit names the canonical path. */
  readonly target?: RequestTarget;
}

export type RequestCheck = CheckedRequest | RefusedRequest;

export interface CheckContext extends TargetOptions {
  readonly rules: CompiledScope;
  readonly limits: Pick<HttpScope, 'maxBodyBytes' | 'contentTypes'>;
}

// Headers that make one framework run a different method than the one the rules saw.
const METHOD_OVERRIDE = new Set(['x-http-method-override', 'x-http-method', 'x-method-override', 'x-original-method']);
// TRACE echoes the request (with the injected credential) back; CONNECT opens a tunnel past every rule.
const NEVER = new Set(['TRACE', 'TRACK', 'CONNECT', 'DEBUG']);

export function headerValues(rawHeaders: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === name) out.push(rawHeaders[i + 1]!);
  return out;
}

const refused = (code: HttpRefusalCode, what: string, target?: RequestTarget, status: 403 | 413 = 403): RefusedRequest => ({
  allowed: false,
  code,
  status,
  what,
  target,
});

export function checkRequest(head: RequestHead, ctx: CheckContext): RequestCheck {
  const framing = checkFraming(head);
  if (framing) return framing;
  if (NEVER.has(head.method)) return refused('http_method_refused', `the ${head.method} method (never forwarded)`);
  const override = head.rawHeaders.find((h, i) => i % 2 === 0 && METHOD_OVERRIDE.has(h.toLowerCase()));
  if (override) return refused('http_method_override', `the ${override} header (a method override is never forwarded)`);
  const reading = readTarget(head.url, ctx);
  if (!reading.ok) return refused('http_path_refused', `this path: ${reading.why}`);
  const target = reading.target;
  if (target.rawQuery !== null && queryNames(target.rawQuery).includes('_method')) {
    return refused('http_method_override', 'a _method query parameter (a method override is never forwarded)', target);
  }
  const upgrade = headerValues(head.rawHeaders, 'upgrade');
  const websocket = upgrade.length > 0;
  if (websocket) {
    // h2c and every other upgrade would hand the connection to a protocol the rules cannot see.
    if (upgrade.length !== 1 || upgrade[0]!.trim().toLowerCase() !== 'websocket' || head.method !== 'GET') {
      return refused('http_upgrade_refused', `an upgrade to ${upgrade.join(', ') || 'nothing'} (only a GET upgrade to websocket is forwarded)`, target);
    }
  }
  const ruleMethod = websocket ? WEBSOCKET : head.method;
  const verdict = judgeRequest(ctx.rules, ruleMethod, target.segments);
  if (!verdict.allowed) {
    const what = `${ruleMethod} ${target.path}`;
    return refused('http_not_allowed', verdict.deniedBy ? `${what} (denied by "${verdict.deniedBy}")` : what, target);
  }
  const contentLength = bodyLength(head.rawHeaders);
  const limits = checkBody(head, ctx.limits, contentLength, target);
  if (limits) return limits;
  return { allowed: true, target, ruleMethod, rule: verdict.rule, contentLength, websocket };
}

/**
 * Node's parser (llhttp, strict mode) already answers 400 to both
 * Transfer-Encoding and Content-Length, to differing Content-Lengths and to
 * bad chunk framing; these are the forms it lets through that another parser
 * could still frame differently, refused here so the upstream and the gateway
 * always agree where a request ends.
 */
function checkFraming(head: RequestHead): RefusedRequest | null {
  const te = headerValues(head.rawHeaders, 'transfer-encoding');
  const cl = headerValues(head.rawHeaders, 'content-length');
  if (te.length > 0 && cl.length > 0) return refused('http_framing_refused', 'a request with both Transfer-Encoding and Content-Length');
  if (te.length > 1 || (te.length === 1 && te[0]!.trim().toLowerCase() !== 'chunked')) {
    return refused('http_framing_refused', `Transfer-Encoding "${te.join(', ')}" (only a single "chunked" is forwarded)`);
  }
  if (cl.length > 1 || (cl.length === 1 && !/^\d{1,15}$/.test(cl[0]!.trim()))) {
    return refused('http_framing_refused', 'a repeated or malformed Content-Length');
  }
  const hosts = headerValues(head.rawHeaders, 'host');
  if (hosts.length > 1) return refused('http_host_refused', 'more than one Host header');
  return null;
}

function bodyLength(rawHeaders: readonly string[]): number | null {
  const cl = headerValues(rawHeaders, 'content-length');
  if (cl.length === 1) return Number(cl[0]!.trim());
  return headerValues(rawHeaders, 'transfer-encoding').length > 0 ? null : 0;
}

function checkBody(head: RequestHead, limits: CheckContext['limits'], length: number | null, target: RequestTarget): RefusedRequest | null {
  if (length === 0) return null;
  if (limits.maxBodyBytes !== undefined && length !== null && length > limits.maxBodyBytes) {
    return refused('http_body_too_large', `a body of ${length} bytes (the limit is ${limits.maxBodyBytes})`, target, 413);
  }
  if (limits.contentTypes) {
    const declared = headerValues(head.rawHeaders, 'content-type');
    const type = declared.length === 1 ? declared[0]!.split(';')[0]!.trim().toLowerCase() : '';
    if (!limits.contentTypes.some((t) => t === type || (t.endsWith('/*') && type.startsWith(t.slice(0, -1))))) {
      return refused('http_content_type_refused', `a body of type "${declared.join(', ') || 'none'}" (allowed: ${limits.contentTypes.join(', ')})`, target);
    }
  }
  return null;
}

function queryNames(rawQuery: string): string[] {
  return rawQuery.split('&').map((pair) => {
    const name = pair.split('=')[0]!.replace(/\+/g, ' ');
    try {
      return decodeURIComponent(name).trim().toLowerCase();
    } catch {
      return name.toLowerCase();
    }
  });
}

import type { HttpRule, HttpScope } from '../../core/model.js';

/**
 * An HTTP role's method + path rules, matched against the decoded segments of
 * request-target.ts. Deny rules win. Allow rules match segments exactly
 * (case-sensitive, as URLs are); deny rules ignore case, so an upstream that
 * routes `/ADMIN` like `/admin` cannot be used to step around a deny.
 */

/** The method a WebSocket upgrade is matched as: a GET rule never opens a two-way channel. */
export const WEBSOCKET = 'WEBSOCKET';

export type RuleVerdict =
  | { readonly allowed: true; readonly rule: string }
  | { readonly allowed: false; readonly deniedBy: string | null };

interface CompiledRule {
  readonly text: string;
  readonly methods: ReadonlySet<string>;
  readonly segments: readonly string[];
}

export interface CompiledScope {
  readonly allow: readonly CompiledRule[];
  readonly deny: readonly CompiledRule[];
}

export function compileScope(scope: Pick<HttpScope, 'allow' | 'deny'>): CompiledScope {
  return { allow: scope.allow.map((r) => compileRule(r, false)), deny: scope.deny.map((r) => compileRule(r, true)) };
}

function compileRule(rule: HttpRule, foldCase: boolean): CompiledRule {
  const segments = rule.path.split('/').slice(1).map((s) => (foldCase ? s.toLowerCase() : s));
  return { text: `${rule.methods.join(',')} ${rule.path}`, methods: new Set(rule.methods), segments };
}

/** `method` is the request's method, or WEBSOCKET for an upgrade. */
export function judgeRequest(scope: CompiledScope, method: string, segments: readonly string[]): RuleVerdict {
  const folded = segments.map((s) => s.toLowerCase());
  const denied = scope.deny.find((r) => methodMatches(r, method) && pathMatches(r.segments, folded));
  if (denied) return { allowed: false, deniedBy: denied.text };
  const allowed = scope.allow.find((r) => methodMatches(r, method) && pathMatches(r.segments, segments));
  return allowed ? { allowed: true, rule: allowed.text } : { allowed: false, deniedBy: null };
}

// HEAD asks for what GET would return, without the body (RFC 9110 9.3.2): a GET rule covers it, and a GET deny too.
function methodMatches(rule: CompiledRule, method: string): boolean {
  return rule.methods.has('*') || rule.methods.has(method) || (method === 'HEAD' && rule.methods.has('GET'));
}

/**
 * Glob over segments as a table (pattern position × path position), so several
 * "**" in one rule cost pattern × path steps, never a backtracking blow-up.
 */
function pathMatches(pattern: readonly string[], path: readonly string[]): boolean {
  // reach[s]: the first p pattern segments can consume exactly the first s path segments.
  let reach = new Array<boolean>(path.length + 1).fill(false);
  reach[0] = true;
  for (const want of pattern) {
    const next = new Array<boolean>(path.length + 1).fill(false);
    if (want === '**') {
      let any = false;
      for (let s = 0; s <= path.length; s++) next[s] = any = any || reach[s]!;
    } else {
      for (let s = 0; s < path.length; s++) {
        if (reach[s] && (want === '*' ? path[s] !== '' : want === path[s])) next[s + 1] = true;
      }
    }
    reach = next;
  }
  return reach[path.length]!;
}

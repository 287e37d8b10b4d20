/**
 * Which headers cross the gateway. Going up: the client's end-to-end headers,
 * minus everything that names the hop (Host, Connection and the headers it
 * lists, framing), that authenticates the client to Airlock (Authorization,
 * Airlock's cookies), or that some frameworks read as a different route
 * (X-Original-URL, X-Forwarded-*); plus the role's credential. Coming down:
 * the upstream's headers minus hop-by-hop ones, with redirects to the
 * upstream's own origin turned into paths on the gateway.
 */

const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'proxy-authorization', 'proxy-authenticate', 'host', 'content-length', 'expect', 'http2-settings',
]);

// Headers a client must never choose: its identity to Airlock, and routes some upstream frameworks honour.
const NEVER_FORWARDED = new Set([
  'authorization', 'forwarded', 'x-real-ip', 'x-original-url', 'x-rewrite-url', 'x-override-url',
  'x-http-method-override', 'x-http-method', 'x-method-override', 'x-original-method',
]);

export interface UpstreamHeaderOptions {
  /** Cookie names that belong to Airlock (grant and dashboard cookies): removed from Cookie. */
  readonly airlockCookies: readonly string[];
  readonly credential: readonly [string, string] | null;
  readonly contentLength: number | null;
  readonly websocket: boolean;
}

/** Upstream request headers as [name, value] pairs (repeated names kept), ready for http.request. */
export function upstreamRequestHeaders(rawHeaders: readonly string[], options: UpstreamHeaderOptions): [string, string][] {
  const named = connectionTokens(rawHeaders);
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    if (HOP_BY_HOP.has(name) || NEVER_FORWARDED.has(name) || named.has(name) || name.startsWith('x-forwarded-')) continue;
    if (options.credential && name === options.credential[0]) continue;
    if (name === 'cookie') {
      const kept = withoutCookies(value, options.airlockCookies);
      if (kept) out.push(['cookie', kept]);
      continue;
    }
    out.push([name, value]);
  }
  if (options.contentLength !== null && options.contentLength > 0) out.push(['content-length', String(options.contentLength)]);
  if (options.websocket) out.push(['connection', 'Upgrade'], ['upgrade', 'websocket']);
  if (options.credential) out.push([options.credential[0], options.credential[1]]);
  return out;
}

function connectionTokens(rawHeaders: readonly string[]): Set<string> {
  const named = new Set<string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() !== 'connection') continue;
    for (const token of rawHeaders[i + 1]!.split(',')) named.add(token.trim().toLowerCase());
  }
  return named;
}

function withoutCookies(header: string, names: readonly string[]): string {
  return header
    .split(';')
    .map((c) => c.trim())
    .filter((c) => c !== '' && !names.includes(c.split('=')[0]!.trim()))
    .join('; ');
}

const RESPONSE_HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'trailer', 'upgrade', 'proxy-authenticate']);

export interface ResponseHeaderOptions {
  /** The upstream's base URL: a Location under it becomes a path on the gateway. */
  readonly upstreamBase: URL;
}

/** Client response headers as a flat [name, value, …] list (Set-Cookie and other repeats kept). */
export function clientResponseHeaders(rawHeaders: readonly string[], options: ResponseHeaderOptions): string[] {
  const named = connectionTokens(rawHeaders);
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const lower = name.toLowerCase();
    if (RESPONSE_HOP_BY_HOP.has(lower) || named.has(lower)) continue;
    out.push(name, lower === 'location' ? gatewayLocation(rawHeaders[i + 1]!, options.upstreamBase) : rawHeaders[i + 1]!);
  }
  return out;
}

/** `http://upstream:15672/base/x` → `/x`, so a redirect keeps the client on the gateway; other targets unchanged. */
export function gatewayLocation(location: string, base: URL): string {
  let url: URL;
  try {
    url = new URL(location, base);
  } catch {
    return location;
  }
  if (!/^https?:\/\//i.test(location) && !location.startsWith('//')) return stripBase(location, base);
  if (url.origin !== base.origin) return location;
  return stripBase(url.pathname + url.search + url.hash, base);
}

function stripBase(path: string, base: URL): string {
  const prefix = base.pathname.replace(/\/$/, '');
  if (prefix && path.startsWith(prefix + '/')) return path.slice(prefix.length);
  return path;
}

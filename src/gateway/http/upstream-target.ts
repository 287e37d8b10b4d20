import http from 'node:http';
import https from 'node:https';
import type { Resource } from '../../core/model.js';

/**
 * Where and how requests for one resource go: the base URL's origin and path
 * prefix, and the TLS rules taken from the resource (verified by default, a
 * configured CA, `tls_verify: false` only by explicit choice).
 */
export interface UpstreamTarget {
  readonly base: URL;
  /** The base URL's path without its trailing slash ("" for the root). */
  readonly prefix: string;
  readonly hostHeader: string;
  readonly encodedSlash: 'segment' | 'refuse';
  request(options: http.RequestOptions, keepAlive: boolean): http.ClientRequest;
  close(): void;
}

export function upstreamTarget(resource: Resource): UpstreamTarget {
  const raw = resource.upstream.url;
  if (!raw) throw new Error(`resource ${resource.name} has no upstream url`);
  const base = new URL(raw);
  const secure = base.protocol === 'https:';
  const tls: https.AgentOptions = secure
    ? {
        ca: resource.upstream.tlsCa,
        rejectUnauthorized: resource.upstream.tlsVerify !== false,
        // SNI only for names: an IP literal as servername is not allowed (RFC 6066).
        servername: /^[\d.]+$|^\[/.test(base.hostname) ? undefined : base.hostname,
      }
    : {};
  const agent = secure ? new https.Agent({ keepAlive: true, ...tls }) : new http.Agent({ keepAlive: true });
  const transport = secure ? https : http;
  return {
    base,
    prefix: base.pathname.replace(/\/$/, ''),
    hostHeader: base.host,
    encodedSlash: resource.upstream.encodedSlash ?? 'segment',
    request(options, keepAlive) {
      return transport.request({
        protocol: base.protocol,
        hostname: base.hostname.replace(/^\[|\]$/g, ''),
        port: base.port || (secure ? 443 : 80),
        setHost: false,
        ...tls,
        ...options,
        agent: keepAlive ? agent : false,
      });
    },
    close() {
      agent.destroy();
    },
  };
}

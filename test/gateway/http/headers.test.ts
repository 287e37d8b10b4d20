import { describe, expect, it } from 'vitest';
import { clientResponseHeaders, gatewayLocation, upstreamRequestHeaders } from '../../../src/gateway/http/forwarded-headers.js';
import { redactQuery } from '../../../src/gateway/http/query-redaction.js';
import { renderRefusal } from '../../../src/gateway/http/refusal.js';
import { credentialHeader } from '../../../src/gateway/http/upstream-credential.js';

describe('headers crossing the gateway', () => {
  const up = (raw: string[], credential: [string, string] | null = ['authorization', 'Basic cm9sZQ==']) =>
    upstreamRequestHeaders(raw, { airlockCookies: ['airlock_grant'], credential, contentLength: null, websocket: false });

  it('drops hop-by-hop headers and the headers Connection names, so a client cannot strip the credential', () => {
    const out = up(['Host', 'gw', 'Connection', 'keep-alive, Authorization, X-Keep', 'X-Keep', '1', 'Keep-Alive', 't=5', 'TE', 'trailers', 'Accept', '*/*']);
    expect(out).toEqual([['accept', '*/*'], ['authorization', 'Basic cm9sZQ==']]);
  });

  it('never forwards the client’s Authorization, Airlock cookies, proxy headers or route overrides', () => {
    const out = up([
      'Authorization', 'Basic Z3JhbnQ=', 'Proxy-Authorization', 'x', 'Cookie', 'airlock_grant=s; a=1', 'Cookie', 'airlock_grant=t',
      'X-Forwarded-For', '1.2.3.4', 'X-Forwarded-Prefix', '/admin', 'X-Original-URL', '/admin', 'X-Rewrite-URL', '/admin', 'X-Real-IP', '1.1.1.1',
    ], null);
    expect(out).toEqual([['cookie', 'a=1']]);
  });

  it('keeps repeated end-to-end headers and sets framing itself', () => {
    const out = upstreamRequestHeaders(['Accept', 'a', 'Accept', 'b', 'Content-Length', '999', 'Expect', '100-continue'], {
      airlockCookies: [],
      credential: null,
      contentLength: 12,
      websocket: false,
    });
    expect(out).toEqual([['accept', 'a'], ['accept', 'b'], ['content-length', '12']]);
  });

  it('drops hop-by-hop response headers and keeps every Set-Cookie', () => {
    const base = new URL('http://rabbit:15672/');
    expect(clientResponseHeaders(['Connection', 'close, X-Hop', 'X-Hop', '1', 'Transfer-Encoding', 'chunked', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'], { upstreamBase: base })).toEqual([
      'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2',
    ]);
  });

  it('turns redirects to the upstream (under its base path) into gateway paths', () => {
    const base = new URL('http://rabbit:15672/mgmt/');
    expect(gatewayLocation('http://rabbit:15672/mgmt/#/queues', base)).toBe('/#/queues');
    expect(gatewayLocation('/mgmt/api/x?y=1', base)).toBe('/api/x?y=1');
    expect(gatewayLocation('http://other:15672/mgmt/x', base)).toBe('http://other:15672/mgmt/x');
    expect(gatewayLocation('relative/x', base)).toBe('relative/x');
  });
});

describe('the audit view of a query', () => {
  it('redacts every value but the ones the role keeps, and bare items whole', () => {
    expect(redactQuery('page=2&token=abc&columns=name,messages&flag&=x', ['page', 'columns'])).toBe('page=2&token=<redacted>&columns=name,messages&<redacted>&=<redacted>');
    expect(redactQuery('%70age=2', ['page'])).toBe('%70age=2');
    expect(redactQuery(null, [])).toBeNull();
    expect(redactQuery('', [])).toBe('');
  });
});

describe('refusals', () => {
  it('are JSON unless a browser ranks HTML first', () => {
    expect(renderRefusal(403, 'http_not_allowed', 'm', undefined).headers['content-type']).toContain('json');
    expect(renderRefusal(403, 'http_not_allowed', 'm', 'application/json, text/html').headers['content-type']).toContain('json');
    expect(renderRefusal(403, 'http_not_allowed', 'm', 'text/html;q=0.5, application/json').headers['content-type']).toContain('json');
    const html = renderRefusal(403, 'http_not_allowed', '<script>x</script>', 'text/html,*/*;q=0.8');
    expect(html.headers['content-type']).toContain('html');
    expect(html.body).not.toContain('<script>');
  });
});

describe('the upstream credential', () => {
  it('is built from the value the control plane read, in each of its three forms', () => {
    expect(credentialHeader({ kind: 'basic', user: 'u', passwordEnv: 'P' }, 'pw')).toEqual(['authorization', `Basic ${Buffer.from('u:pw').toString('base64')}`]);
    expect(credentialHeader({ kind: 'bearer', tokenEnv: 'T' }, 'tok')).toEqual(['authorization', 'Bearer tok']);
    expect(credentialHeader({ kind: 'header', header: 'X-Api-Key', valueEnv: 'K' }, 'key')).toEqual(['x-api-key', 'key']);
    expect(credentialHeader(undefined, 'x')).toBeNull();
    expect(() => credentialHeader({ kind: 'bearer', tokenEnv: 'NOPE' }, undefined)).toThrow('environment variable NOPE is not set');
    expect(() => credentialHeader({ kind: 'bearer', tokenEnv: 'NOPE' }, '')).toThrow('environment variable NOPE is not set');
  });
});

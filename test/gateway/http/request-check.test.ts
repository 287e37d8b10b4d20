import { describe, expect, it } from 'vitest';
import { checkRequest, type CheckContext } from '../../../src/gateway/http/request-check.js';
import { compileScope } from '../../../src/gateway/http/rules.js';

const ctx = (limits: CheckContext['limits'] = {}): CheckContext => ({
  rules: compileScope({
    allow: [
      { methods: ['GET'], path: '/api/**' },
      { methods: ['POST', 'PUT'], path: '/api/queues/**' },
      { methods: ['WEBSOCKET'], path: '/ws' },
    ],
    deny: [{ methods: ['*'], path: '/api/users/**' }],
  }),
  limits,
  encodedSlash: 'segment',
});

const check = (method: string, url: string, headers: string[] = ['Host', 'gw'], c = ctx()) => checkRequest({ method, url, rawHeaders: headers }, c);
const code = (...args: Parameters<typeof check>) => {
  const r = check(...args);
  return r.allowed ? 'allowed' : r.code;
};

describe('the decision on a request head', () => {
  it('allows what a rule allows and says which rule', () => {
    const r = check('GET', '/api/queues?page=1');
    expect(r).toMatchObject({ allowed: true, rule: 'GET /api/**', ruleMethod: 'GET', contentLength: 0, websocket: false });
  });

  it('refuses what no rule allows, naming method and canonical path', () => {
    const r = check('DELETE', '/api/queues/%2f/q1');
    expect(r).toMatchObject({ allowed: false, code: 'http_not_allowed', status: 403, what: 'DELETE /api/queues/%2F/q1' });
  });

  it('names the deny rule that won', () => {
    expect(check('GET', '/api/users/guest')).toMatchObject({ code: 'http_not_allowed', what: 'GET /api/users/guest (denied by "* /api/users/**")' });
  });

  it('never matches the query: "?" tricks stay out of the path', () => {
    expect(code('GET', '/api/users?/../queues')).toBe('http_not_allowed');
    expect(code('POST', '/api/overview?x=/api/queues/')).toBe('http_not_allowed');
  });

  it('refuses path tricks before any rule is looked at', () => {
    expect(code('GET', '/api/queues/../users')).toBe('http_path_refused');
    expect(code('GET', 'http://127.0.0.1:15672/api/users')).toBe('http_path_refused');
  });

  it.each([
    ['X-HTTP-Method-Override', 'DELETE'],
    ['x-http-method', 'DELETE'],
    ['X-Method-Override', 'PUT'],
    ['X-Original-Method', 'DELETE'],
  ])('refuses a method override in %s', (name, value) => {
    expect(code('GET', '/api/queues', ['Host', 'gw', name, value])).toBe('http_method_override');
  });

  it('refuses a _method query parameter, also encoded', () => {
    expect(code('POST', '/api/queues/x?_method=DELETE')).toBe('http_method_override');
    expect(code('POST', '/api/queues/x?a=1&%5Fmethod=DELETE')).toBe('http_method_override');
    expect(code('POST', '/api/queues/x?my_method=1')).toBe('allowed');
  });

  it.each(['TRACE', 'TRACK', 'CONNECT', 'DEBUG'])('never forwards %s, even under "*" rules', (method) => {
    const any = { ...ctx(), rules: compileScope({ allow: [{ methods: ['*'], path: '/**' }], deny: [] }) };
    expect(code(method, '/api/queues', ['Host', 'gw'], any)).toBe('http_method_refused');
  });

  it.each([
    [['Transfer-Encoding', 'chunked', 'Content-Length', '5']],
    [['Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'chunked']],
    [['Transfer-Encoding', 'gzip, chunked']],
    [['Transfer-Encoding', 'chunked, identity']],
    [['Transfer-Encoding', 'xchunked']],
    [['Content-Length', '5', 'Content-Length', '5']],
    [['Content-Length', '5, 5']],
    [['Content-Length', '-1']],
    [['Content-Length', '0x10']],
  ])('refuses framing another parser could read differently: %j', (headers) => {
    expect(code('POST', '/api/queues/x', ['Host', 'gw', ...headers])).toBe('http_framing_refused');
  });

  it('refuses a second Host header', () => {
    expect(code('GET', '/api/queues', ['Host', 'gw', 'Host', 'evil'])).toBe('http_host_refused');
  });

  it('treats a WebSocket upgrade as its own method and refuses every other upgrade (h2c)', () => {
    expect(check('GET', '/ws', ['Host', 'gw', 'Connection', 'Upgrade', 'Upgrade', 'websocket'])).toMatchObject({ allowed: true, ruleMethod: 'WEBSOCKET', websocket: true });
    expect(code('GET', '/api/ws', ['Host', 'gw', 'Connection', 'Upgrade', 'Upgrade', 'websocket'])).toBe('http_not_allowed');
    expect(code('GET', '/ws', ['Host', 'gw', 'Connection', 'Upgrade, HTTP2-Settings', 'Upgrade', 'h2c'])).toBe('http_upgrade_refused');
    expect(code('POST', '/ws', ['Host', 'gw', 'Connection', 'Upgrade', 'Upgrade', 'websocket'])).toBe('http_upgrade_refused');
  });

  it('limits body size by Content-Length before reading it (413) and content type when a body comes', () => {
    const limited = ctx({ maxBodyBytes: 10, contentTypes: ['application/json'] });
    expect(check('PUT', '/api/queues/x', ['Host', 'gw', 'Content-Length', '11', 'Content-Type', 'application/json'], limited)).toMatchObject({ code: 'http_body_too_large', status: 413 });
    expect(code('PUT', '/api/queues/x', ['Host', 'gw', 'Content-Length', '10', 'Content-Type', 'application/json; charset=utf-8'], limited)).toBe('allowed');
    expect(code('PUT', '/api/queues/x', ['Host', 'gw', 'Content-Length', '10', 'Content-Type', 'text/plain'], limited)).toBe('http_content_type_refused');
    expect(code('PUT', '/api/queues/x', ['Host', 'gw', 'Transfer-Encoding', 'chunked'], limited)).toBe('http_content_type_refused');
    expect(code('PUT', '/api/queues/x', ['Host', 'gw', 'Content-Length', '0'], limited)).toBe('allowed');
    expect(check('PUT', '/api/queues/x', ['Host', 'gw', 'Transfer-Encoding', 'chunked', 'Content-Type', 'application/json'], limited)).toMatchObject({ allowed: true, contentLength: null });
  });
});

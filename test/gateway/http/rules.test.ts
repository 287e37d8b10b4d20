import { describe, expect, it } from 'vitest';
import type { HttpRule } from '../../../src/core/model.js';
import { compileScope, judgeRequest, WEBSOCKET } from '../../../src/gateway/http/rules.js';

const rule = (text: string): HttpRule => {
  const [methods, path] = text.split(' ') as [string, string];
  return { methods: methods.split(','), path };
};
const scope = (allow: string[], deny: string[] = []) => compileScope({ allow: allow.map(rule), deny: deny.map(rule) });
const seg = (path: string) => path.split('/').slice(1);
const allowed = (s: ReturnType<typeof scope>, method: string, path: string) => judgeRequest(s, method, seg(path)).allowed;

describe('HTTP role rules', () => {
  const read = scope(['GET /api/**'], ['GET /api/definitions/**']);
  const purge = scope(['DELETE /api/queues/*/airlock-q1/contents', 'GET /api/queues/*/airlock-q1']);

  it('"**" takes any number of segments, also none', () => {
    expect(allowed(read, 'GET', '/api')).toBe(true);
    expect(allowed(read, 'GET', '/api/')).toBe(true);
    expect(allowed(read, 'GET', '/api/queues/x/y/z')).toBe(true);
    expect(allowed(read, 'GET', '/apix')).toBe(false);
    expect(allowed(read, 'GET', '/')).toBe(false);
  });

  it('"*" takes exactly one non-empty segment', () => {
    expect(allowed(purge, 'DELETE', '/api/queues/%2F/airlock-q1/contents'.replace('%2F', 'vh'))).toBe(true);
    expect(judgeRequest(purge, 'DELETE', ['api', 'queues', '/', 'airlock-q1', 'contents']).allowed).toBe(true);
    expect(allowed(purge, 'DELETE', '/api/queues/a/b/airlock-q1/contents')).toBe(false);
    expect(judgeRequest(purge, 'DELETE', ['api', 'queues', '', 'airlock-q1', 'contents']).allowed).toBe(false);
    expect(allowed(purge, 'DELETE', '/api/queues/vh/airlock-q2/contents')).toBe(false);
    expect(allowed(purge, 'DELETE', '/api/queues/vh/airlock-q1')).toBe(false);
  });

  it('matches the method exactly; HEAD goes with GET; "*" is any method', () => {
    expect(allowed(read, 'POST', '/api/queues')).toBe(false);
    expect(allowed(read, 'HEAD', '/api/queues')).toBe(true);
    expect(allowed(read, 'get', '/api/queues')).toBe(false);
    expect(allowed(scope(['* /api/**']), 'PATCH', '/api/x')).toBe(true);
    expect(allowed(scope(['HEAD /api/**']), 'GET', '/api/x')).toBe(false);
  });

  it('a WebSocket upgrade needs a WEBSOCKET (or "*") rule: GET never opens one', () => {
    expect(judgeRequest(read, WEBSOCKET, ['api', 'ws']).allowed).toBe(false);
    expect(judgeRequest(scope(['WEBSOCKET /ws']), WEBSOCKET, ['ws']).allowed).toBe(true);
    expect(judgeRequest(scope(['* /**']), WEBSOCKET, ['ws']).allowed).toBe(true);
    expect(judgeRequest(scope(['* /**'], ['WEBSOCKET /**']), WEBSOCKET, ['ws']).allowed).toBe(false);
  });

  it('deny wins, names the rule, and ignores case so /API/Definitions is denied too', () => {
    expect(judgeRequest(read, 'GET', seg('/api/definitions'))).toEqual({ allowed: false, deniedBy: 'GET /api/definitions/**' });
    expect(allowed(read, 'GET', '/API/Definitions/x')).toBe(false);
    expect(allowed(read, 'HEAD', '/api/definitions')).toBe(false);
    expect(allowed(read, 'GET', '/api/definitionsX')).toBe(true);
  });

  it('allow is case-sensitive: /API/queues is not under "GET /api/**"', () => {
    expect(allowed(read, 'GET', '/API/queues')).toBe(false);
  });

  it('literal segments compare decoded values: an encoded slash never splits a segment', () => {
    const s = scope(['GET /api/queues/*']);
    expect(judgeRequest(s, 'GET', ['api', 'queues', 'a/b']).allowed).toBe(true);
    expect(judgeRequest(scope(['GET /api/queues']), 'GET', ['api/queues']).allowed).toBe(false);
  });

  it('many "**" in a rule stay linear on a long path (no backtracking blow-up)', () => {
    const s = scope(['GET /**/a/**/b/**/c/**/d']);
    const long = Array.from({ length: 4000 }, () => 'a');
    // Backtracking over 4,000 segments and four "**" would not finish within the test's timeout; a linear match does at once.
    expect(judgeRequest(s, 'GET', long).allowed).toBe(false);
  });
});

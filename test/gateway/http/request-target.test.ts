import { describe, expect, it } from 'vitest';
import { readTarget, type TargetOptions, type TargetRefusal } from '../../../src/gateway/http/request-target.js';

const segmentSlash: TargetOptions = { encodedSlash: 'segment' };

function segmentsOf(raw: string): readonly string[] | null {
  const r = readTarget(raw, segmentSlash);
  return r.ok ? r.target.segments : null;
}

function refusal(raw: string, options = segmentSlash): TargetRefusal | 'ok' {
  const r = readTarget(raw, options);
  return r.ok ? 'ok' : r.refusal;
}

describe('the canonical path a request is judged on', () => {
  it('decodes segments and keeps the bytes as sent for the upstream', () => {
    const r = readTarget('/api/queues/%2F/my%20queue?columns=name&page=2', segmentSlash);
    expect(r.ok && r.target).toEqual({
      segments: ['api', 'queues', '/', 'my queue'],
      rawPath: '/api/queues/%2F/my%20queue',
      rawQuery: 'columns=name&page=2',
      path: '/api/queues/%2F/my%20queue',
    });
  });

  it('spells one path one way, whatever the encoding case or needless escapes', () => {
    const a = readTarget('/api/queues/%2f/%61bc', segmentSlash);
    const b = readTarget('/api/queues/%2F/abc', segmentSlash);
    expect(a.ok && b.ok && a.target.path).toBe('/api/queues/%2F/abc');
    expect(a.ok && a.target.segments).toEqual(b.ok && b.target.segments);
    expect(a.ok && a.target.rawPath).toBe('/api/queues/%2f/%61bc');
  });

  it('keeps a query apart: "?" ends the path and the query is never decoded into it', () => {
    const r = readTarget('/api/overview?/../users', segmentSlash);
    expect(r.ok && r.target.segments).toEqual(['api', 'overview']);
    expect(r.ok && r.target.rawQuery).toBe('/../users');
    expect(segmentsOf('/api/x%3Fy')).toEqual(['api', 'x?y']);
  });

  it('accepts the root, a trailing slash and non-ASCII names sent encoded', () => {
    expect(segmentsOf('/')).toEqual(['']);
    const t = readTarget('/api/queues/', segmentSlash);
    expect(t.ok && t.target.segments).toEqual(['api', 'queues', '']);
    const u = readTarget('/api/queues/%E2%82%AC', segmentSlash);
    expect(u.ok && u.target.segments[2]).toBe('€');
    expect(refusal('/api/x%3By')).toBe('ok');
    expect(refusal('/api/50%25')).toBe('ok');
  });

  it.each([
    // request-target forms other than origin-form
    ['http://evil.example/api/queues', 'target_form'],
    ['HTTP://127.0.0.1/api', 'target_form'],
    ['//evil.example/api', 'empty_segment'],
    ['*', 'target_form'],
    ['127.0.0.1:15672', 'target_form'],
    ['api/queues', 'target_form'],
    ['', 'target_form'],
    // fragments
    ['/api/queues#/../users', 'fragment'],
    ['/api/queues?x=1#frag', 'fragment'],
    // dot segments, plain and encoded, any case
    ['/api/../users', 'dot_segment'],
    ['/api/./queues', 'dot_segment'],
    ['/api/queues/..', 'dot_segment'],
    ['/..', 'dot_segment'],
    ['/api/%2e%2e/users', 'dot_segment'],
    ['/api/%2E%2E/users', 'dot_segment'],
    ['/api/.%2e/users', 'dot_segment'],
    ['/api/%2e/queues', 'dot_segment'],
    // an encoded slash hiding a traversal for servers that decode it
    ['/api/queues%2F..%2F..%2Fusers', 'dot_segment'],
    ['/api/queues/%2F..', 'dot_segment'],
    ['/api/x%2F.%2Fy', 'dot_segment'],
    // duplicate slashes
    ['/api//users', 'empty_segment'],
    ['/api/queues//', 'empty_segment'],
    ['//', 'empty_segment'],
    // ; parameters (Tomcat/Jetty/Spring strip them before routing)
    ['/api;x=y/users', 'raw_character'],
    ['/api/users;', 'raw_character'],
    ['/admin;/secret', 'raw_character'],
    // backslashes (IIS and some frameworks read them as "/")
    ['/api\\..\\users', 'backslash'],
    ['/api/%5C..%5Cusers', 'backslash'],
    ['/api/x%5cy', 'backslash'],
    // percent-encoding that is invalid, double, or decodes to bytes that are not text
    ['/api/%zz', 'bad_percent'],
    ['/api/%2', 'bad_percent'],
    ['/api/%', 'bad_percent'],
    ['/api/%252e%252e/users', 'double_encoding'],
    ['/api/%252F', 'double_encoding'],
    ['/api/%25%32%65', 'double_encoding'],
    ['/api/%C0%AE%C0%AE/users', 'bad_utf8'],
    ['/api/%E0%80%AE', 'bad_utf8'],
    ['/api/%FF', 'bad_utf8'],
    ['/api/%ED%A0%80', 'bad_utf8'],
    // control characters, raw (Node refuses them first) or decoded
    ['/api/queues%00.json', 'control_character'],
    ['/api/%0d%0aSet-Cookie:x', 'control_character'],
    ['/api/%09', 'control_character'],
    ['/api/%C2%85', 'control_character'],
    // raw characters that must arrive encoded
    ['/api/queues/é', 'raw_character'],
    ['/api/a b', 'raw_character'],
    // Unicode look-alikes some servers fold into ".", "/" or "\"
    ['/api/%EF%BC%8E%EF%BC%8E/users', 'lookalike'],
    ['/api/x%EF%BC%8Fy', 'lookalike'],
    ['/api/x%EF%BC%BCy', 'lookalike'],
  ] as const)('refuses %s (%s)', (raw, expected) => {
    expect(refusal(raw)).toBe(expected);
  });

  it('never refuses every %2F: vhost "/" is data in one segment unless the upstream says it decodes %2F', () => {
    expect(refusal('/api/queues/%2F/orders')).toBe('ok');
    expect(refusal('/api/exchanges/%2F/amq.direct')).toBe('ok');
    expect(refusal('/api/queues/%2F/orders', { encodedSlash: 'refuse' })).toBe('encoded_slash');
    expect(refusal('/api/queues/orders', { encodedSlash: 'refuse' })).toBe('ok');
  });

  it('keeps dots that are not whole segments', () => {
    expect(refusal('/api/amq.direct')).toBe('ok');
    expect(refusal('/api/...')).toBe('ok');
    expect(refusal('/api/.hidden')).toBe('ok');
    expect(refusal('/api/x%2F...%2Fy')).toBe('ok');
  });
});

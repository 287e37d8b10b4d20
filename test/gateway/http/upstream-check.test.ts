import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHttpUpstream } from '../../../src/gateway/http/upstream-check.js';
import { httpResource, httpRole } from './harness.js';

/**
 * `airlock resources check` for http, on what the CLI test (RabbitMQ, right
 * and wrong credential) does not reach: an upstream whose TLS certificate
 * does not verify, one that is not there, a credential whose variable is
 * unset, and a bearer token that must not show in any answer.
 */

let tlsServer: https.Server;
let tlsPort: number;
const seen: (string | undefined)[] = [];

beforeAll(async () => {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048 });
  tlsServer = https.createServer({ cert: pems.cert, key: pems.private }, (req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(req.headers.authorization === 'Bearer right-token' ? 200 : 401).end();
  });
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  tlsPort = (tlsServer.address() as AddressInfo).port;
}, 30_000);

afterAll(() => new Promise<void>((resolve) => tlsServer.close(() => resolve())));

const bearer = httpRole('ops', { allow: [{ methods: ['GET'], path: '/**' }], credential: { kind: 'bearer', tokenEnv: 'OPS_TOKEN' } });
const access = (url: string, password: string | undefined, tlsVerify = true) => {
  const r = httpResource('svc', url, [bearer]);
  const resource = { ...r, upstream: { ...r.upstream, tlsVerify, checkPath: '/health' } };
  return { resource, role: bearer, login: 'bearer token', password };
};

describe('resources check for an http upstream', () => {
  it('says TLS could not be verified, and sends nothing to an unverified upstream', async () => {
    const err = await checkHttpUpstream(access(`https://127.0.0.1:${tlsPort}`, 'right-token'), 5000).catch((e: Error) => e);
    expect(String(err)).toMatch(/TLS: the upstream's certificate could not be verified \(\w+\); set upstream.tls_ca/);
    expect(seen).toEqual([]);
  });

  it('with verification off by choice: OK with the right token, refused with a wrong one, never echoing it', async () => {
    await expect(checkHttpUpstream(access(`https://127.0.0.1:${tlsPort}`, 'right-token', false), 5000)).resolves.toBe(
      `GET https://127.0.0.1:${tlsPort}/health answered 200 OK over TLS, not verified (tls_verify: false)`,
    );
    const err = await checkHttpUpstream(access(`https://127.0.0.1:${tlsPort}`, 'wrong-token', false), 5000).catch((e: Error) => e);
    expect(String(err)).toContain('the upstream refused the credential');
    expect(String(err)).not.toContain('wrong-token');
  });

  it('names an unreachable upstream and an unset variable', async () => {
    const unreachable = await checkHttpUpstream(access('http://127.0.0.1:1', 'x'), 5000).catch((e: Error) => e);
    expect(String(unreachable)).toContain('cannot reach http://127.0.0.1:1 (ECONNREFUSED)');
    const unset = await checkHttpUpstream(access('http://127.0.0.1:1', undefined), 5000).catch((e: Error) => e);
    expect(String(unset)).toContain('environment variable OPS_TOKEN is not set');
  });
});

import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Resource } from '../../../src/core/model.js';
import { httpResource, httpRole, startHarness, type Harness } from './harness.js';

/** An https upstream: verified by default, against the configured CA; unverified only when tls_verify is false. */

let upstream: https.Server;
let ca: string;
const harnesses: Harness[] = [];

beforeAll(async () => {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
  });
  ca = pems.cert;
  upstream = https.createServer({ cert: pems.cert, key: pems.private }, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ url: req.url, auth: req.headers.authorization ?? null }));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
});

afterAll(async () => {
  for (const h of harnesses) await h.close();
  upstream.closeAllConnections();
  await new Promise((r) => upstream.close(r));
});

async function through(tls: Partial<Resource['upstream']>): Promise<{ status: number; body: { url?: string; error?: { code: string; message: string } } }> {
  const url = `https://localhost:${(upstream.address() as AddressInfo).port}`;
  const base = httpResource('tls-api', url, [httpRole('read', { allow: [{ methods: ['GET'], path: '/**' }], credential: { kind: 'bearer', tokenEnv: 'T' } })]);
  const h = await startHarness({ ...base, upstream: { ...base.upstream, tls: true, tlsVerify: true, ...tls } }, { T: 'tls-token' });
  harnesses.push(h);
  const res = await fetch(`${h.url}/x?y=1`, { headers: { authorization: h.auth('read') } });
  return { status: res.status, body: (await res.json()) as never };
}

describe('an https upstream', () => {
  it('is verified against the configured CA and gets the credential', async () => {
    const r = await through({ tlsCa: ca });
    expect(r).toEqual({ status: 200, body: { url: '/x?y=1', auth: 'Bearer tls-token' } });
  });

  it('is refused (502) when its certificate does not verify, and the credential is never sent', async () => {
    const r = await through({});
    expect(r.status).toBe(502);
    expect(r.body.error).toMatchObject({ code: 'http_upstream_unreachable' });
    expect(r.body.error!.message).toMatch(/^airlock: cannot reach tls-api upstream \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\)$/);
  });

  it('is used unverified only by explicit choice (tls_verify: false)', async () => {
    expect((await through({ tlsVerify: false })).status).toBe(200);
  });
});

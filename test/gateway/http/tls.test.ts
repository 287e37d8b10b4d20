import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { startAirlock } from '../../../src/server/airlock.js';
import { ROOT } from '../../support/cli.js';

/**
 * `gateway.http.tls`: the HTTP gateway serves HTTPS with a configured
 * certificate (verified by curl --cacert and by Node's fetch with the CA
 * added) or a generated one (curl -k); the browser's grant cookie is Secure
 * over TLS; plain HTTP to the TLS port is not answered as if it were fine.
 * RabbitMQ's management API is the upstream.
 */

const run = promisify(execFile);
const RABBIT = 'http://127.0.0.1:15672';

const yaml = (tls: string) => `
users:
  - { name: alice, groups: [oncall] }
resources:
  - name: rabbit-admin
    kind: http
    upstream: { url: "${RABBIT}" }
    roles:
      read:
        credential: { user: guest, password_env: TLS_RABBIT_PASSWORD }
        http: { allow: ["GET /api/**"] }
policies:
  - { name: oncall, who: { groups: [oncall] }, resources: { names: [rabbit-admin] }, roles: [read], max_duration: 1h, approval: none }
gateway:
  http: { listen: 127.0.0.1:0, tls: ${tls} }
`;

type Air = Awaited<ReturnType<typeof startAirlock>>;
const dirs: string[] = [];
const airs: Air[] = [];

async function start(tls: string, files: Record<string, string> = {}): Promise<{ air: Air; port: number; secret: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-http-tls-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const air = await startAirlock(parseConfig(yaml(tls), 'airlock.yaml', dir), { listen: '127.0.0.1:0', gatewayListen: { http: '127.0.0.1:0' }, env: { TLS_RABBIT_PASSWORD: 'guest' } });
  airs.push(air);
  const alice = air.directory.users.get('alice')!;
  const grant = (await air.lifecycle.request(alice, { resource: 'rabbit-admin', role: 'read', durationSeconds: 1800, reason: 'INC-3' })).grant!;
  const { secret } = await air.lifecycle.issueSecret(alice, grant.id);
  return { air, port: air.running.get('http')!.address().port, secret, dir };
}

/** curl as a user runs it: the resource's name in the URL, resolved to this machine. */
async function curl(port: number, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = ['-sS', '--resolve', `rabbit-admin.localhost:${port}:127.0.0.1`];
  try {
    const r = await run('curl', [...base, ...args]);
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

afterAll(async () => {
  for (const a of airs) await a.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the HTTP gateway over TLS with a configured certificate', () => {
  let port: number;
  let secret: string;
  let dir: string;
  let air: Air;

  beforeAll(async () => {
    const pems = await generate([{ name: 'commonName', value: 'rabbit-admin.localhost' }], {
      keySize: 2048,
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'rabbit-admin.localhost' }] }],
    });
    ({ port, secret, dir, air } = await start('{ cert: gw-cert.pem, key: gw-key.pem }', { 'gw-cert.pem': pems.cert, 'gw-key.pem': pems.private }));
  }, 60_000);

  it('is verified by curl --cacert, and curl without the CA refuses it', async () => {
    const url = `https://rabbit-admin.localhost:${port}/api/overview`;
    const ok = await curl(port, ['--cacert', join(dir, 'gw-cert.pem'), '-u', `alice:${secret}`, url]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toHaveProperty('management_version');
    const unverified = await curl(port, ['-u', `alice:${secret}`, url]);
    expect(unverified.code).toBe(60); // CURLE_PEER_FAILED_VERIFICATION
    // Plain HTTP to the TLS port gets nothing a client could take for an answer.
    const plain = await curl(port, ['-u', `alice:${secret}`, `http://rabbit-admin.localhost:${port}/api/overview`]);
    expect(plain.stdout).not.toContain('management_version');
    expect(air.gatewayLines.join('\n')).toContain(`https://<resource>.localhost:${port}/`);
  });

  it("is verified by Node's fetch with the CA added, and the browser cookie is Secure", async () => {
    // Node does not resolve *.localhost as browsers and curl do: the child maps it to 127.0.0.1, nothing else.
    const resolver = join(dir, 'localhost-resolver.cjs');
    writeFileSync(
      resolver,
      "const dns = require('node:dns'); const lookup = dns.lookup; dns.lookup = function (h, o, c) { return lookup.call(this, typeof h === 'string' && h.endsWith('.localhost') ? '127.0.0.1' : h, o, c); };\n",
    );
    const script = `
      const origin = 'https://rabbit-admin.localhost:${port}';
      const auth = 'Basic ' + Buffer.from('alice:' + process.env.SECRET).toString('base64');
      const api = await fetch(origin + '/api/overview', { headers: { authorization: auth } });
      const form = new URLSearchParams({ user: 'alice', secret: process.env.SECRET });
      const signIn = await fetch(origin + '/.airlock/sign-in', { method: 'POST', body: form, redirect: 'manual', headers: { origin } });
      // \`airlock connect\`'s local listener (built CLI), which verifies the gateway's certificate too.
      const { startLocalListener } = await import(${JSON.stringify(join(ROOT, 'dist/cli/commands/connect-http.js'))});
      const local = await startLocalListener('rabbit-admin', { host: 'localhost', port: ${port}, user: 'alice', tls: true }, process.env.SECRET);
      const viaConnect = await fetch('http://127.0.0.1:' + local.port + '/api/overview');
      await local.close();
      console.log(JSON.stringify({ api: api.status, body: await api.json(), signIn: signIn.status, cookie: signIn.headers.get('set-cookie'), connect: viaConnect.status }));
    `;
    const { stdout } = await run(process.execPath, ['-r', resolver, '--input-type=module', '-e', script], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'gw-cert.pem'), SECRET: secret },
    });
    const r = JSON.parse(stdout) as { api: number; body: object; signIn: number; cookie: string; connect: number };
    expect(r.connect).toBe(200);
    expect(r.api).toBe(200);
    expect(r.body).toHaveProperty('management_version');
    expect(r.signIn).toBe(303);
    expect(r.cookie).toMatch(/^airlock_grant=alp_[^;]+; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
  });
});

describe('the HTTP gateway with tls: self-signed', () => {
  it('serves HTTPS with a certificate it made for *.<public_host> (curl -k)', { timeout: 60_000 }, async () => {
    const { port, secret } = await start('self-signed');
    const r = await curl(port, ['-k', '-u', `alice:${secret}`, '-w', '\\n%{ssl_verify_result}', `https://rabbit-admin.localhost:${port}/api/overview`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('management_version');
    const withoutK = await curl(port, ['-u', `alice:${secret}`, `https://rabbit-admin.localhost:${port}/api/overview`]);
    expect(withoutK.code).toBe(60);
  });
});

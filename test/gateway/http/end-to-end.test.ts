import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli, startServerProcess, tempConfig, type ServerProcess } from '../../support/cli.js';

/**
 * The product as a user meets it for an admin API: `airlock server` as a
 * process with RabbitMQ's management API behind its HTTP gateway, the CLI's
 * `connect` listener, and curl in front with no credential of its own.
 */

const run = promisify(execFile);
const RABBIT = 'http://127.0.0.1:15672';
const ADMIN = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
const QUEUE = `airlock-e2e-${randomUUID().slice(0, 8)}`;

let server: ServerProcess;
let config: ReturnType<typeof tempConfig>;
const tokens: Record<string, string> = {};
const children: ChildProcess[] = [];

const yaml = `
users:
  - { name: alice, groups: [oncall] }
  - { name: root,  groups: [airlock-admins] }
admins: { groups: [airlock-admins] }
resources:
  - name: rabbit-admin
    kind: http
    upstream: { url: "${RABBIT}" }
    roles:
      read:
        credential: { user: guest, password_env: E2E_RABBIT_PASSWORD }
        http:
          allow: ["GET /api/**"]
          deny: ["* /api/definitions/**"]
policies:
  - { name: oncall, who: { groups: [oncall] }, resources: { names: [rabbit-admin] }, roles: [read], max_duration: 1h, approval: none }
gateway:
  http: { listen: 127.0.0.1:0 }
`;

const as = (user: string) => (...args: string[]) => runCli(args, { AIRLOCK_SERVER: server.url, AIRLOCK_TOKEN: tokens[user], XDG_CONFIG_HOME: `${config.dir}/home-${user}` });

/** `airlock connect rabbit-admin` as a running process; resolves with the local URL it prints. */
function connect(user: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'connect', 'rabbit-admin'], {
      env: { ...process.env, AIRLOCK_SERVER: server.url, AIRLOCK_TOKEN: tokens[user], XDG_CONFIG_HOME: `${config.dir}/home-${user}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^(http:\/\/127\.0\.0\.1:\d+\/)/m.exec(out);
      if (m) resolve(m[1]!);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => reject(new Error(`airlock connect exited with ${code}: ${err}`)));
  });
}

const curl = async (...args: string[]) => (await run('curl', ['-s', ...args])).stdout;

beforeAll(async () => {
  await fetch(`${RABBIT}/api/queues/%2F/${QUEUE}`, { method: 'PUT', headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: '{"durable":false}' });
  config = tempConfig(yaml);
  for (const user of ['alice', 'root']) tokens[user] = (await runCli(['tokens', 'issue', user, '--config', config.path])).stdout.trim();
  server = await startServerProcess(config.path, { E2E_RABBIT_PASSWORD: 'guest' });
});

afterAll(async () => {
  for (const c of children) c.kill('SIGTERM');
  await server?.stop();
  config?.cleanup();
  await fetch(`${RABBIT}/api/queues/%2F/${QUEUE}`, { method: 'DELETE', headers: { authorization: ADMIN } });
});

describe('RabbitMQ behind airlock, end to end', () => {
  it('lets curl use a read grant through `airlock connect` with no credential, refuses a purge, and lists each request in `sessions show`', { timeout: 120_000 }, async () => {
    const requested = JSON.parse((await as('alice')('request', 'rabbit-admin', '--role', 'read', '--for', '30m', '--reason', 'INC-7 queue backlog', '--json')).stdout) as { grant: { id: string } };
    const local = await connect('alice');

    const queues = JSON.parse(await curl(`${local}api/queues/%2F?columns=name`)) as { name: string }[];
    expect(queues.map((q) => q.name)).toContain(QUEUE);
    const purge = JSON.parse(await curl('-X', 'DELETE', `${local}api/queues/%2F/${QUEUE}/contents`)) as { error: { message: string } };
    expect(purge.error.message).toBe(`airlock: role "read" on rabbit-admin does not allow DELETE /api/queues/%2F/${QUEUE}/contents`);

    // --print --json: the gateway URL and the per-grant credential, for scripts that bring their own client.
    const printed = JSON.parse((await as('alice')('connect', 'rabbit-admin', '--print', '--json')).stdout) as { url: string; user: string; password: string };
    expect(printed.url).toMatch(/^http:\/\/rabbit-admin\.localhost:\d+\/$/);
    const overview = JSON.parse(await curl('-u', `${printed.user}:${printed.password}`, `${printed.url}api/overview`)) as { management_version?: string };
    expect(overview.management_version).toEqual(expect.any(String));
    expect(await curl('-o', '/dev/null', '-w', '%{http_code}', '-u', `${printed.user}:wrong`, `${printed.url}api/overview`)).toBe('401');

    await as('root')('revoke', requested.grant.id, '--reason', 'done');
    const after = JSON.parse(await curl(`${local}api/queues`)) as { error: { code: string; message: string } };
    // The local listener's kept-alive connection may still be open for the grace second (it then says why the session
    // ended), or already gone (a new connection then finds no grant): refused either way, never forwarded.
    expect(['http_unauthenticated', 'http_session_ended']).toContain(after.error.code);
    if (after.error.code === 'http_session_ended') expect(after.error.message).toContain('revoked by root: done');

    const sessions = JSON.parse((await as('alice')('sessions', '--json')).stdout) as Array<{ id: string; resource: string; statements: number; refused: number }>;
    const mine = sessions.filter((s) => s.resource === 'rabbit-admin');
    expect(mine.length).toBeGreaterThan(0);
    const shown = await Promise.all(mine.map(async (s) => JSON.parse((await as('alice')('sessions', 'show', s.id, '--json')).stdout) as { events: Array<{ action: string; details: { text?: string; outcome?: string; command_tag?: string } }> }));
    const statements = shown.flatMap((s) => s.events).filter((e) => e.action.startsWith('statement'));
    expect(statements.map((e) => [e.details.text, e.details.outcome])).toEqual(
      expect.arrayContaining([
        ['GET /api/queues/%2F?columns=<redacted>', 'ok'],
        [`DELETE /api/queues/%2F/${QUEUE}/contents`, 'refused'],
        ['GET /api/overview', 'ok'],
      ]),
    );
    expect(JSON.stringify(shown)).not.toContain(printed.password);
    expect(JSON.stringify(shown)).not.toContain(Buffer.from('guest:guest').toString('base64'));
  });
});

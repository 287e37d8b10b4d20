import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServerProcess, tempConfig, type ServerProcess } from '../support/cli.js';

const CONFIG = `
users:
  - { name: alice, groups: [oncall] }
  - { name: root, groups: [admins] }
admins: { groups: [admins] }
resources:
  - name: shop-db
    kind: postgres
    upstream: { host: 127.0.0.1, port: 5432, database: test }
    roles: { read: { credential: { user: postgres }, allow: [read] } }
policies:
  - { name: oncall-reads, who: { groups: [oncall] }, resources: { names: [shop-db] }, roles: [read], approval: none }
gateway: { postgres: { listen: "127.0.0.1:0" } }
`;

let server: ServerProcess;
let config: ReturnType<typeof tempConfig>;
let home: string;
const tokens: Record<string, string> = {};
const as = (user: string) => (...args: string[]) => runCli(args, { AIRLOCK_SERVER: server.url, AIRLOCK_TOKEN: tokens[user], XDG_CONFIG_HOME: home });
const kept = () => join(home, 'airlock', 'grants', new URL(server.url).host.replace(':', '_'));

async function grantAndConnect(): Promise<string> {
  const r = await as('alice')('request', 'shop-db', '--role', 'read', '--for', '10m', '--json');
  const id = (JSON.parse(r.stdout) as { grant: { id: string } }).grant.id;
  const c = await as('alice')('connect', 'shop-db', '--print', '--json');
  expect(c.code, c.stderr).toBe(0);
  return id;
}

beforeAll(async () => {
  config = tempConfig(CONFIG);
  home = mkdtempSync(join(tmpdir(), 'airlock-home-'));
  for (const user of ['alice', 'root']) tokens[user] = (await runCli(['tokens', 'issue', user, '--config', config.path])).stdout.trim();
  server = await startServerProcess(config.path);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  config?.cleanup();
  rmSync(home, { recursive: true, force: true });
});

describe('grant secrets kept by the CLI', () => {
  it('are kept per server (0600) and removed by `airlock release`', async () => {
    const id = await grantAndConnect();
    const file = join(kept(), `${id}.secret`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await as('alice')('connect', 'shop-db', '--print', '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ grant: id }); // reused, not rotated
    await as('alice')('release', id);
    expect(existsSync(file)).toBe(false);
  });

  it('of grants revoked or ended elsewhere are removed at the next `airlock who`, old-layout files too', async () => {
    const id = await grantAndConnect();
    // A secret saved before per-server folders, for a grant long gone.
    mkdirSync(join(home, 'airlock', 'grants'), { recursive: true });
    writeFileSync(join(home, 'airlock', 'grants', 'grt_gone.secret'), 'x\n', { mode: 0o600 });
    const revoked = await as('root')('revoke', id, '--reason', 'incident over');
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(readdirSync(kept())).toEqual([`${id}.secret`]);
    const who = await as('alice')('who');
    expect(who.code, who.stderr).toBe(0);
    expect(readdirSync(kept())).toEqual([]);
    expect(existsSync(join(home, 'airlock', 'grants', 'grt_gone.secret'))).toBe(false);
  });

  it('of active grants stay through `airlock who` and are pruned by `airlock connect`', async () => {
    const id = await grantAndConnect();
    await as('alice')('who');
    expect(readdirSync(kept())).toEqual([`${id}.secret`]);
    writeFileSync(join(kept(), 'grt_ended.secret'), 'x\n', { mode: 0o600 });
    await as('alice')('connect', 'shop-db', '--print', '--json');
    expect(readdirSync(kept())).toEqual([`${id}.secret`]);
  });
});

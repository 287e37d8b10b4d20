import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServerProcess, tempConfig, type ServerProcess } from '../support/cli.js';
import { EXAMPLE_CONFIG } from '../support/world.js';

/** `airlock tokens issue|list|revoke` as an admin and a bot use them, against `airlock server`. Needs `npm run build`. */

let server: ServerProcess;
let config: ReturnType<typeof tempConfig>;
let rootToken: string;

beforeAll(async () => {
  config = tempConfig(EXAMPLE_CONFIG);
  const issued = await runCli(['tokens', 'issue', 'root', '--config', config.path, '--name', 'first-admin', '--json']);
  expect(issued.code, issued.stderr).toBe(0);
  rootToken = (JSON.parse(issued.stdout) as { token: string }).token;
  server = await startServerProcess(config.path);
}, 30_000);

afterAll(async () => {
  await server?.stop();
  config?.cleanup();
});

const as = (token: string) => (...args: string[]) => runCli(args, { AIRLOCK_SERVER: server.url, AIRLOCK_TOKEN: token, XDG_CONFIG_HOME: `${config.dir}/home` });

describe('airlock tokens', () => {
  it('issues a scoped bot token through the API, lists it without its secret, and revokes it for its next call', async () => {
    const root = as(rootToken);
    const bot = await root('tokens', 'issue', '--name', 'deploy-bot', '--scope', 'request', '--expires', '7d', '--for', 'alice', '--json');
    expect(bot.code, bot.stderr).toBe(0);
    const issued = JSON.parse(bot.stdout) as { id: string; token: string; scope: string; user: string };
    expect(issued).toMatchObject({ scope: 'request', user: 'alice' });

    const listed = await root('tokens', 'list', '--all');
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${issued.id}\\s+alice\\s+deploy-bot\\s+request\\s+active`));
    expect(listed.stdout).not.toContain(issued.token.slice(-43));

    const asBot = as(issued.token);
    expect((await asBot('whoami')).stdout).toContain('alice');
    const approve = await asBot('approve', 'req_000000000000');
    expect(approve.code).toBe(1);
    expect(approve.stderr).toContain('scope "request"');

    const revoked = await root('tokens', 'revoke', issued.id);
    expect(revoked.code, revoked.stderr).toBe(0);
    const after = await asBot('whoami');
    expect(after.code).toBe(1);
    expect(after.stderr).toContain('was revoked');
  }, 120_000);

  it('asks for a name when issuing through the API (usage error)', async () => {
    const r = await as(rootToken)('tokens', 'issue');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--name is required');
  }, 60_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_CONFIG } from '../support/world.js';
import { runCli, startServerProcess, tempConfig } from '../support/cli.js';

let config: ReturnType<typeof tempConfig>;
// A variable name no machine sets, so the test does not depend on the environment it runs in.
const UNSET = 'AIRLOCK_TEST_NEVER_SET_RO_PASSWORD';
const env = { ORDERS_RW_PASSWORD: 'set-for-this-test' };
const warning = `airlock: warning: ${UNSET} is not set: role "read" on orders-db will fail to log in upstream`;

beforeAll(() => {
  config = tempConfig(EXAMPLE_CONFIG.replace('ORDERS_RO_PASSWORD', UNSET));
});
afterAll(() => config?.cleanup());

describe('a role password variable missing from the environment', () => {
  it('config check still passes, and warns on stderr once per variable, naming the resource and role', async () => {
    const r = await runCli(['config', 'check', '--config', config.path], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('ok (5 users, 1 resources, 3 policies)');
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringContaining(warning)]);
    expect(r.stderr).not.toContain('ORDERS_RW_PASSWORD');
    expect(r.stderr).not.toContain('set-for-this-test');
  });

  it('airlock server warns the same way as it starts', async () => {
    const server = await startServerProcess(config.path, env);
    try {
      expect(server.output()).toContain(warning);
      expect(server.output()).not.toContain('ORDERS_RW_PASSWORD');
    } finally {
      await server.stop();
    }
  });
});

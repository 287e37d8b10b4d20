import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

// Usage errors exit 2 (README): a duration that is not one is caught before any call to a server.
describe('an invalid duration is a usage error', () => {
  it.each([
    [['request', 'orders-db', '--role', 'read', '--for', '5x'], '"5x" is not a duration'],
    [['extend', 'g-1', '--for', '0m'], '"0m" is zero'],
    [['tokens', 'issue', '--name', 'ci', '--expires', '3 weeks'], '"3 weeks" is not a duration'],
  ])('airlock %j exits 2 and names the accepted forms', async (args, said) => {
    const r = await runCli(args, { AIRLOCK_SERVER: 'http://127.0.0.1:9', AIRLOCK_TOKEN: 'alk_x' });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(said);
    if (said.includes('not a duration')) expect(r.stderr).toContain('90s, 15m, 1h30m, 4h or 2d');
  });
});

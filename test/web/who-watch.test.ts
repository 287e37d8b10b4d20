import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { issueToken } from '../../src/core/tokens.js';
import { parseConfig } from '../../src/config/load.js';
import { watchScreen } from '../../src/cli/who-watch.js';
import { createApiClient, type ApiClient } from '../../src/server/api-client.js';
import { startControlPlane, type RunningControlPlane } from '../../src/server/start.js';
import { BIN, tempConfig } from '../support/cli.js';
import { EXAMPLE_CONFIG } from '../support/world.js';

let cp: RunningControlPlane;
let cleanup: () => void;
let home: string;
let alice: ApiClient;
let carolToken: string;

beforeEach(async () => {
  const tmp = tempConfig(EXAMPLE_CONFIG);
  cleanup = tmp.cleanup;
  home = tmp.dir;
  cp = await startControlPlane(parseConfig(EXAMPLE_CONFIG, 'airlock.yaml', tmp.dir), { clock: systemClock, listen: '127.0.0.1:0' });
  alice = createApiClient(cp.url, (await issueToken(cp.store, systemClock, cp.directory, 'alice')).token);
  carolToken = (await issueToken(cp.store, systemClock, cp.directory, 'carol')).token;
});

afterEach(async () => {
  await cp.close();
  cleanup();
});

describe('airlock who --watch', () => {
  it('redraws live as grants come and go, and exits cleanly on Ctrl-C', async () => {
    const child = spawn(process.execPath, [BIN, 'who', '--watch'], {
      env: { ...process.env, AIRLOCK_SERVER: cp.url, AIRLOCK_TOKEN: carolToken, XDG_CONFIG_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const waiters: Array<{ test: () => boolean; resolve: () => void }> = [];
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (const w of waiters.splice(0)) (w.test() ? w.resolve : () => waiters.push(w))();
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
    /** The last full screen drawn (each redraw starts by clearing). */
    const screen = () => out.split('\x1b[H\x1b[2J').at(-1) ?? '';
    const until = (test: () => boolean) => (test() ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ test, resolve })));

    await until(() => screen().includes('live') && screen().includes('nobody holds access right now'));
    const { grant } = await alice.request({ resource: 'orders-db', role: 'read', duration: '30m', reason: 'INC-4411 slow checkout' });
    await until(() => /alice\s+orders-db\s+read\s+INC-4411 slow checkout\s+-\s+policy\s+0:(29|30):\d\d/.test(screen()));
    const first = /0:\d\d:(\d\d)/.exec(screen())![0];
    await until(() => (/0:\d\d:\d\d/.exec(screen())?.[0] ?? first) !== first); // the countdown ticks on its own
    await alice.release(grant!.id);
    await until(() => screen().includes('nobody holds access right now'));

    child.kill('SIGINT');
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(out.endsWith('\x1b[?25h\n')).toBe(true); // the cursor is given back
  });

  it('shows control characters in user text escaped so a reason cannot rewrite the terminal', () => {
    const text = watchScreen(
      [{ user: 'alice', resource: 'orders-db', role: 'read', reason: 'x\x1b[2Jy', ticket: null, approved_by: [], expires_at: '2026-03-01T12:30:00Z', sessions: [] } as never],
      Date.parse('2026-03-01T12:00:00Z'),
      'live',
      'http://x',
    );
    expect(text).toContain('x\\e[2Jy');
    expect(text).toContain('0:30:00');
  });
});

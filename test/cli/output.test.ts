import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyValues, oneLine, relative, renderTable, visible } from '../../src/cli/output.js';
import { BIN, runCli, startServerProcess, tempConfig, type ServerProcess } from '../support/cli.js';

const run = promisify(execFile);

const CONFIG = `
users:
  - { name: alice, groups: [oncall] }
  - { name: bob, groups: [leads] }
resources:
  - name: shop-db
    kind: postgres
    upstream: { host: 127.0.0.1, port: 5432, database: test }
    roles:
      read: { credential: { user: postgres }, allow: [read] }
      report: { credential: { user: postgres }, allow: [read] }
policies:
  - { name: oncall-reads, who: { groups: [oncall] }, resources: { names: [shop-db] }, roles: [read], approval: none }
  - { name: reports-need-a-lead, who: { groups: [oncall] }, resources: { names: [shop-db] }, roles: [report], approval: { count: 1, from: { groups: [leads] } } }
gateway: { postgres: { listen: "127.0.0.1:0" } }
`;

let server: ServerProcess;
let config: ReturnType<typeof tempConfig>;
const tokens: Record<string, string> = {};
// No colour unless a test asks for it: the runner's own FORCE_COLOR must not leak in.
const plain = { FORCE_COLOR: undefined, NO_COLOR: undefined };
const as = (user: string, env: Record<string, string | undefined> = plain) => (...args: string[]) =>
  runCli(args, { AIRLOCK_SERVER: server.url, AIRLOCK_TOKEN: tokens[user], ...env });
// eslint-disable-next-line no-control-regex -- SGR sequences are what colour is made of
const ANSI = /\x1b\[\d+m/g;
const ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/;
let reportGrant: string;
let sessionId: string;

beforeAll(async () => {
  config = tempConfig(CONFIG);
  for (const user of ['alice', 'bob']) tokens[user] = (await runCli(['tokens', 'issue', user, '--config', config.path])).stdout.trim();
  server = await startServerProcess(config.path);
  // A grant approved by a reviewer, with a ticket: what `who` must show.
  const asked = JSON.parse((await as('alice')('request', 'shop-db', '--role', 'report', '--for', '30m', '--reason', 'Q3 numbers', '--ticket', 'CHG-12', '--json')).stdout) as { request: { id: string } };
  const approved = JSON.parse((await as('bob')('approve', asked.request.id, '--json')).stdout) as { grant: { id: string } };
  reportGrant = approved.grant.id;
  // A reason that tries to mislead: quotes, a newline, a right-to-left override.
  await as('alice')('request', 'shop-db', '--role', 'read', '--for', '20m', '--reason', 'say "hi"\nnext\u202eevil');
  // A multi-line statement through the gateway, with psql.
  const dsn = JSON.parse((await as('alice')('connect', 'shop-db', '--role', 'read', '--print', '--json')).stdout) as { dsn: string };
  await run('psql', [dsn.dsn, '-X', '-A', '-t', '-c', 'select 1 as a,\n       2 as b\n  from pg_class\n where relname = \'pg_class\'\n   and relkind = \'r\' and relnamespace = 11 and relpages >= 0'], { encoding: 'utf8' });
  const sessions = JSON.parse((await as('alice')('sessions', '--json')).stdout) as { id: string }[];
  sessionId = sessions[0]!.id;
}, 60_000);

afterAll(async () => {
  await server?.stop();
  config?.cleanup();
});

describe('CLI output (piped)', () => {
  it('who has TICKET and APPROVED BY columns and ISO-8601 UTC times with a relative hint, without colour', async () => {
    const r = await as('alice')('who');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(ANSI);
    const [header, ...rows] = r.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^GRANT\s+USER\s+RESOURCE\s+ROLE\s+REASON\s+TICKET\s+APPROVED BY\s+STARTED\s+EXPIRES\s+SESSIONS$/);
    const row = rows.find((l) => l.startsWith(reportGrant))!;
    expect(row).toMatch(/alice\s+shop-db\s+report\s+Q3 numbers\s+CHG-12\s+bob\s+/);
    expect(row).toMatch(new RegExp(`${ISO.source} \\(\\d+s ago\\)\\s+${ISO.source} \\(in (29|30)m\\)`));
    // Columns line up: each header starts where its cells start.
    const at = header!.indexOf('TICKET');
    expect(row.slice(at, at + 6)).toBe('CHG-12');
  });

  it('collapses multi-line SQL onto one line in tables, with an ellipsis past the width', async () => {
    const show = await as('alice')('sessions', 'show', sessionId);
    expect(show.code, show.stderr).toBe(0);
    const line = show.stdout.split('\n').find((l) => l.includes('select 1 as a'))!;
    expect(line).toMatch(/ select 1 as a, 2 as b from pg_class where relname = 'pg_class' and relkind = 'r… {2}SELECT 1 /);
    const audit = await as('alice')('audit', 'list', '--action', 'statement');
    expect(audit.stdout).toContain('text="select 1 as a, 2 as b from pg_class where relname = \'pg_class\' and relkind = \'r…"');
  });

  it('shows audit details as key="value" pairs with quotes, newlines and direction overrides escaped', async () => {
    const r = await as('alice')('audit', 'list', '--action', 'request.created');
    const line = r.stdout.split('\n').find((l) => l.includes('say'))!;
    expect(line).toContain('reason="say \\"hi\\"\\nnext\\u202eevil"');
    expect(line).toContain('duration="20m"');
    expect(r.stdout).not.toContain('\u202e');
    expect(r.stdout).not.toMatch(/next\n/);
  });
});

describe('CLI colour', () => {
  it('FORCE_COLOR colours a pipe, and stripping the colour leaves the same aligned table', async () => {
    const coloured = await as('alice', { FORCE_COLOR: '1', NO_COLOR: undefined })('who');
    const bare = await as('alice')('who');
    expect(coloured.stdout).toMatch(ANSI);
    expect(coloured.stdout).toContain('\x1b[1mGRANT');
    // The two calls are a second or more apart: a relative time may change its digits or its form ("9s ago" → "10s
    // ago", "59s ago" → "1m ago"), and the column padding with it.
    const same = (s: string) => s.replace(/\((?:in )?(?:\d+[smhd])+(?: ago)?\)/g, '(T)').replace(/ +/g, ' ');
    expect(same(coloured.stdout.replace(ANSI, ''))).toBe(same(bare.stdout));
  });

  it('colours a terminal, and NO_COLOR turns it off there', async () => {
    // script(1) gives the CLI a real pseudo-terminal as stdout.
    const onTty = (env: Record<string, string | undefined>) =>
      run('script', ['-qfec', `${process.execPath} ${BIN} who`, '/dev/null'], {
        encoding: 'utf8',
        env: { ...process.env, TERM: 'xterm', AIRLOCK_SERVER: server.url, AIRLOCK_TOKEN: tokens.alice, FORCE_COLOR: undefined, NO_COLOR: undefined, ...env },
      });
    const tty = await onTty({});
    expect(tty.stdout).toContain('\x1b[1mGRANT');
    const noColour = await onTty({ NO_COLOR: '1' });
    expect(noColour.stdout).toContain('GRANT');
    expect(noColour.stdout).not.toMatch(ANSI);
  });
});

describe('output building blocks', () => {
  it('says deadlines as a person does', () => {
    const now = Date.parse('2026-03-01T12:00:00Z');
    expect(relative('2026-03-01T12:29:59Z', now)).toBe('in 29m');
    expect(relative('2026-03-01T11:57:00Z', now)).toBe('3m ago');
    expect(relative('2026-03-01T13:30:00Z', now)).toBe('in 1h30m');
    expect(relative('2026-03-03T16:00:00Z', now)).toBe('in 2d4h');
    expect(relative('2026-03-01T12:00:42Z', now)).toBe('in 42s');
  });

  it('escapes what could rewrite a terminal or reorder text, and keeps one renderer aligned under colour', () => {
    expect(visible('a\x1b[2Jb\u202ec\0\u2066')).toBe('a\\e[2Jb\\u202ec\\0\\u2066');
    expect(oneLine('select *\n  from t\n where x', 12)).toBe('select * fr…');
    expect(keyValues({ text: 'a"b\\c', role: 'read', empty: null })).toBe('role="read" text="a\\"b\\\\c"');
    const [head, row] = renderTable(['a', 'b'], [[{ text: 'xx', tone: 'red' }, 'y']], true);
    expect(head).toBe('\x1b[1mA\x1b[22m   \x1b[1mB\x1b[22m');
    expect(row).toBe('\x1b[31mxx\x1b[39m  y');
  });
});

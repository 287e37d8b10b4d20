import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { psql, run, startHarness, type Harness } from './harness.js';

describe('psql through the Postgres gateway', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ tls: 'self-signed' });
  });
  afterAll(async () => h?.close());

  it('runs a query for a user holding a grant, signing in with the grant secret over SCRAM', async () => {
    const alice = h.grant(['read']);
    const r = await psql(h, alice, ['-c', `select count(*) from ${h.db.schema}.orders`]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('100');
    await h.backend.until(() => h.backend.ended.length > 0 && h.backend.statements.some((s) => s.text.includes('count(*)')));
    const rec = h.backend.statements.find((s) => s.text.includes('count(*)'))!;
    expect(rec).toMatchObject({ outcome: 'ok', commandTag: 'SELECT 1', rows: 1 });
    const start = h.backend.started.at(-1)!;
    expect(start.applicationName).toBe('psql');
    expect(h.backend.ended.find((e) => e.sessionId === start.sessionId)).toMatchObject({ reason: 'client', statements: 1, refused: 0 });
  });

  it('refuses a wrong secret with 28P01 and does not say whether a grant exists', async () => {
    const alice = h.grant(['read']);
    const wrong = await psql(h, { user: alice.user, secret: 'alk_wrong' }, ['-c', 'select 1']);
    const nobody = await psql(h, { user: 'mallory', secret: 'alk_wrong' }, ['-c', 'select 1']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain(`password authentication failed for user "${alice.user}"`);
    expect(nobody.stderr).toContain('password authentication failed for user "mallory"');
    expect(wrong.stderr.replaceAll(alice.user, 'U')).toBe(nobody.stderr.replaceAll('mallory', 'U'));
    expect(h.backend.authFailures.map((f) => f.user)).toEqual(expect.arrayContaining([alice.user, 'mallory']));
  });

  it('connects over TLS with sslmode=require', async () => {
    const alice = h.grant(['read']);
    const r = await psql(h, alice, ['-c', 'select ssl from pg_stat_ssl where pid = pg_backend_pid()'], undefined, { PGSSLMODE: 'require' });
    expect(r.stderr).toBe('');
    // The gateway's own TLS terminates the client; the upstream hop here is plain.
    expect(r.stdout.trim()).toBe('f');
    const info = await psql(h, alice, ['-c', '\\conninfo'], undefined, { PGSSLMODE: 'require' });
    expect(info.stdout).toMatch(/SSL connection \(protocol: TLSv1\.[23]/);
  });

  it('keeps the session usable after a refused statement, reporting the reason as 42501', async () => {
    const alice = h.grant(['read']);
    const script = `select 1 as before;\ndelete from ${h.db.schema}.orders;\nselect 2 as after;\n`;
    const r = await psql(h, alice, ['-v', 'VERBOSITY=verbose'], script);
    expect(r.stdout.trim().split('\n')).toEqual(['1', '2']);
    expect(r.stderr).toContain('ERROR:  42501: airlock: role "read" on');
    const refused = h.backend.statements.find((s) => s.text.startsWith('delete'));
    expect(refused).toMatchObject({ outcome: 'refused' });
  });

  it('keeps a transaction usable after a refused statement inside it', async () => {
    const alice = h.grant(['read']);
    const script = `begin;\nselect 1;\nselect 'forbidden';\nselect 3;\ncommit;\n`;
    const r = await psql(h, alice, [], script);
    // COMMIT (not ROLLBACK) shows the transaction survived the refusal.
    expect(r.stdout.trim().split('\n').filter(Boolean)).toEqual(['BEGIN', '1', '3', 'COMMIT']);
    expect(r.stderr).toContain('forbidden');
  });

  it('records an upstream error with its SQLSTATE', async () => {
    const alice = h.grant(['read']);
    const r = await psql(h, alice, ['-c', 'select * from no_such_table_here']);
    expect(r.stderr).toContain('does not exist');
    await h.backend.until(() => h.backend.statements.some((s) => s.text.includes('no_such_table_here')));
    expect(h.backend.statements.find((s) => s.text.includes('no_such_table_here'))).toMatchObject({ outcome: 'error', sqlstate: '42P01' });
  });

  it('runs the upstream session read-only for a read role, as a second line of defence', async () => {
    const alice = h.grant(['read']);
    const r = await psql(h, alice, ['-c', 'show default_transaction_read_only']);
    expect(r.stdout.trim()).toBe('on');
    const writer = h.grant(['read', 'write']);
    const w = await psql(h, writer, ['-c', 'show default_transaction_read_only']);
    expect(w.stdout.trim()).toBe('off');
  });

  it('copies out, and copies in for a write role', async () => {
    const writer = h.grant(['read', 'write']);
    const out = await psql(h, writer, ['-c', `copy (select id, item from ${h.db.schema}.orders where id <= 3 order by id) to stdout`]);
    expect(out.stdout.trim().split('\n')).toEqual(['1\titem 1', '2\titem 2', '3\titem 3']);
    const inp = await psql(h, writer, ['-c', `\\copy ${h.db.schema}.orders from stdin`], '1001\tcopied a\n1002\tcopied b\n\\.\n');
    expect(inp.stderr).toBe('');
    const check = await psql(h, writer, ['-c', `select count(*) from ${h.db.schema}.orders where id > 1000`]);
    expect(check.stdout.trim()).toBe('2');
    await h.backend.until(() => h.backend.statements.some((s) => s.commandTag === 'COPY 2'));
  });

  it('refuses COPY FROM for a read role and stays usable', async () => {
    const alice = h.grant(['read']);
    const r = await psql(h, alice, [], `\\copy ${h.db.schema}.orders from stdin\n5000\tx\n\\.\nselect 'still here';\n`);
    expect(r.stderr).toContain('only reads; this statement writes');
    expect(r.stdout).toContain('still here');
  });

  it('passes NOTICE and NOTIFY through', async () => {
    const writer = h.grant(['read', 'write']);
    const r = await psql(h, writer, [], `listen chan;\nnotify chan, 'hello';\ndo $$ begin raise notice 'a notice'; end $$;\n`);
    expect(r.stdout + r.stderr).toContain('Asynchronous notification "chan" with payload "hello"');
    expect(r.stderr).toContain('NOTICE:  a notice');
  });

  it('pgbench runs through the gateway in simple, extended and prepared modes', async () => {
    const writer = h.grant(['read', 'write']);
    const env = { PGPASSWORD: writer.secret, PGSSLMODE: 'disable' };
    const conn = ['-h', '127.0.0.1', '-p', String(h.port), '-U', writer.user];
    const script = `\\set id random(1, 100)\nselect item from ${h.db.schema}.orders where id = :id;\n`;
    const { writeFileSync, mkdtempSync, rmSync } = await import('node:fs');
    const dir = mkdtempSync('/tmp/airlock-pgbench-');
    writeFileSync(`${dir}/bench.sql`, script);
    for (const mode of ['simple', 'extended', 'prepared']) {
      const r = await run('pgbench', [...conn, '-n', '-M', mode, '-c', '4', '-j', '2', '-t', '50', '-f', `${dir}/bench.sql`, h.resource], env);
      expect(r.stderr, mode).not.toMatch(/error|abort/i);
      expect(r.stdout, mode).toMatch(/number of transactions actually processed: 200\/200/);
    }
    rmSync(dir, { recursive: true, force: true });
  });
});

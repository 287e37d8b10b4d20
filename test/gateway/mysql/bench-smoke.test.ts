import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { MysqlBenchResult } from '../../../src/bench/suites/mysql-results.js';
import { ROOT } from '../../support/cli.js';

/** The bench's MySQL section must not rot: a tiny run of the built harness against the local MariaDB; never judges speed. */
const execFileP = promisify(execFile);
const out = mkdtempSync(join(tmpdir(), 'airlock-bench-my-smoke-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('npm run bench: the MySQL section', () => {
  it('measures direct, Airlock and the Node relay, the added latency and memory per idle session', { timeout: 90_000 }, async () => {
    const r = await execFileP(process.execPath, [join(ROOT, 'dist/bench/main.js'), '--smoke', '--only', 'mysql', '--out', out], { cwd: ROOT, timeout: 85_000 }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (err: { code?: number; stdout?: string; stderr?: string }) => ({ code: err.code ?? 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' }),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('MySQL gateway (MariaDB');
    expect(r.stdout).toContain('airlock/relay');
    const results = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as { mysql: MysqlBenchResult; targets: { target: string }[] };
    expect(results.mysql.throughput.map((t) => t.name)).toEqual(['point-select text c=2', 'point-select prepared c=2']);
    for (const t of results.mysql.throughput) {
      for (const p of ['direct', 'airlock', 'relay'] as const) expect(t.qps[p]?.median, `${p} ${t.name}`).toBeGreaterThan(0);
      expect(t.ratio.airlockToRelay?.median).toBeGreaterThan(0);
    }
    expect(results.mysql.latency?.us.airlock?.n).toBeGreaterThan(0);
    expect(results.mysql.latency?.addedUs.relay).toBeDefined();
    expect(results.mysql.idle?.answered).toBe(results.mysql.idle?.steps.at(-1)?.sessions);
    expect(results.targets.map((t) => t.target)).toContain('mysql ≤ 64 KiB per idle session (issue 10)');
  });
});

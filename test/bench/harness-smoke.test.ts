import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchResults } from '../../src/bench/results.js';
import { ROOT } from '../support/cli.js';

/**
 * `npm run bench` must not rot: a tiny run of the built harness (npm test
 * builds first) against the local PostgreSQL. It checks that every suite
 * produced its numbers, the table and the chart — never how fast anything was.
 */
const out = mkdtempSync(join(tmpdir(), 'airlock-bench-smoke-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function runBench(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'dist/bench/main.js'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('the benchmark harness', () => {
  it('runs every suite in smoke mode and writes the table, latest.json and the ratio chart', { timeout: 300_000 }, async () => {
    const r = await runBench(['--smoke', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Throughput');
    // The byte relay is the reference every Airlock ratio is read against: its columns must not quietly go missing.
    expect(r.stdout).toContain('relay/direct');
    expect(r.stdout).toMatch(/^relay\s+\d/m);
    expect(r.stdout).toContain('Targets (issue 5)');

    const results = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as BenchResults;
    expect(results.meta.mode).toBe('smoke');
    expect(results.throughput.map((t) => t.protocol)).toEqual(['simple', 'extended', 'prepared', 'simple']);
    expect(results.throughput.map((t) => t.script)).toEqual(['select-only', 'select-only', 'select-only', 'tpcb']);
    for (const t of results.throughput) {
      expect(t.ratio.airlock?.median).toBeGreaterThan(0);
      expect(t.tps.relay?.median, `relay tps for ${t.name}`).toBeGreaterThan(0);
      expect(t.ratio.relay?.median, `relay ratio for ${t.name}`).toBeGreaterThan(0);
    }
    // Issue 15: every proxy's CPU per statement at one held rate, and the goal checked against it.
    expect(results.cost?.rows.map((row) => row.name)).toEqual(['select-only simple c=2']);
    for (const name of ['airlock', 'airlock (audit off)', 'relay']) expect(results.cost?.rows[0]?.cpuUs[name]?.median, `${name} CPU at the held rate`).toBeGreaterThan(0);
    expect(results.targets.some((t) => t.target.startsWith('select-only simple c=2 at 300/s: CPU per statement'))).toBe(true);
    expect(r.stdout).toContain('Proxy CPU per statement at the same load');
    expect(results.audit).toHaveLength(2);
    // Intent step on vs off (issue 9): select-only simple and prepared at 1 client and at the largest count, TPC-B at the largest.
    expect(results.intents?.workloads.map((w) => w.name)).toEqual(['select-only simple c=1', 'select-only prepared c=1', 'select-only simple c=2', 'select-only prepared c=2', 'tpcb simple c=2']);
    for (const w of results.intents?.workloads ?? []) {
      expect(w.tps.on.median, `intents-on tps for ${w.name}`).toBeGreaterThan(0);
      expect(w.tps.off.median, `intents-off tps for ${w.name}`).toBeGreaterThan(0);
      expect(w.ratio.median, `intents on/off ratio for ${w.name}`).toBeGreaterThan(0);
    }
    expect(results.intents?.latency.us.on.n).toBeGreaterThan(0);
    expect(results.intents?.latency.us.off.n).toBeGreaterThan(0);
    expect(Number.isFinite(results.intents?.latency.addedUs.p50)).toBe(true);
    expect(results.intents?.latency.addedP50PerBlock.n).toBeGreaterThan(0);
    expect(results.targets.map((t) => t.target)).toContain('intents added p50 at c=1 ≤ 30 µs (issue 9)');
    expect(r.stdout).toContain('Write-ahead intent cost');
    expect(results.latency?.us.airlock?.n).toBeGreaterThan(0);
    expect(results.latency?.us.relay?.n).toBeGreaterThan(0);
    expect(results.latency?.addedUs.relay).toBeDefined();
    expect(results.connect?.ms.airlock?.n).toBeGreaterThan(0);
    // Every session is cut, however long it took.
    expect(results.revoke?.cut).toBe(results.revoke?.sessions);
    expect(results.expiry?.cut).toBe(results.expiry?.sessions);
    if (results.scale) expect(results.scale.answered).toBe(results.scale.steps.at(-1)?.sessions);

    const svg = readFileSync(join(out, 'ratios.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Node byte relay ÷ direct');
    // The relay's colour appears once in the legend; more than once means relay bars were drawn.
    expect(svg.split('fill="#f59e0b"').length - 1).toBeGreaterThan(1);
    expect(svg.split('fill="#7c3aed"').length - 1, 'intent on/off bars').toBeGreaterThan(1);
    expect(existsSync(join(out, 'latest.json'))).toBe(true);
  });
});

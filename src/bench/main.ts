import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBenchEnv, type BenchEnv } from './bench-env.js';
import { parseOptions, USAGE, type BenchOptions } from './options.js';
import { renderChart } from './report-chart.js';
import { renderTable, table } from './report-table.js';
import type { BenchResults } from './results.js';
import { runAuditCost } from './suites/audit-cost.js';
import { runConnect } from './suites/connect.js';
import { runCost } from './suites/cost.js';
import { runExpiryCut, runRevokeCut } from './suites/cut.js';
import { httpTargets, renderHttp, runHttp } from './suites/http-gateway.js';
import { runFleetCut } from './suites/fleet-cut.js';
import { runIntentCost } from './suites/intent-cost.js';
import { runLatency } from './suites/latency.js';
import { checkMysqlTargets, renderMysqlTable } from './suites/mysql-results.js';
import { runMysql } from './suites/mysql-suite.js';
import { runScale } from './suites/scale.js';
import { renderStoreNodes, runStoreNodes } from './suites/store-nodes.js';
import { runThroughput } from './suites/throughput.js';
import { checkTargets } from './targets.js';

/**
 * `npm run bench`: the Postgres gateway against a direct connection,
 * PgBouncer and a bare Node.js byte relay, on this machine's PostgreSQL.
 * Prints a table and writes bench/results/latest.json and
 * bench/results/ratios.svg.
 */

const log = (line: string) => process.stderr.write(`${line}\n`);

function pgbenchVersion(): string {
  try {
    return execFileSync('pgbench', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'pgbench not found';
  }
}

async function suite<T>(name: string, opts: BenchOptions, failures: string[], run: () => Promise<T>): Promise<T | undefined> {
  if (opts.only && !opts.only.has(name)) return undefined;
  log(`${name}…`);
  try {
    return await run();
  } catch (err) {
    failures.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    log(`  FAILED: ${failures[failures.length - 1]}`);
    return undefined;
  }
}

async function measure(env: BenchEnv, opts: BenchOptions, failures: string[]): Promise<Omit<BenchResults, 'targets' | 'meta'>> {
  const r: Omit<BenchResults, 'targets' | 'meta'> = { throughput: [], audit: [] };
  r.throughput = (await suite('throughput', opts, failures, () => runThroughput(env, log))) ?? [];
  r.cost = await suite('cost', opts, failures, () => runCost(env, log));
  r.audit = (await suite('audit', opts, failures, () => runAuditCost(env, log))) ?? [];
  r.intents = await suite('intents', opts, failures, () => runIntentCost(env, log));
  r.latency = await suite('latency', opts, failures, () => runLatency(env, log));
  r.connect = await suite('connect', opts, failures, () => runConnect(env, log));
  r.revoke = await suite('cut', opts, failures, () => runRevokeCut(env, log));
  r.expiry = await suite('cut', opts, failures, () => runExpiryCut(env, log));
  r.scale = (await suite('scale', opts, failures, () => runScale(env, log))) ?? undefined;
  return r;
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help')) {
    console.log(USAGE);
    return 0;
  }
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const opts = parseOptions(argv, join(repo, 'bench/results'));
  const failures: string[] = [];
  let measured: Omit<BenchResults, 'targets' | 'meta'> = { throughput: [], audit: [] };
  const envNotes: string[] = [];
  // `--only mysql`, `--only fleet`, `--only http` and `--only nodes` need none of the Postgres set-up.
  if (!opts.only || [...opts.only].some((s) => s !== 'mysql' && s !== 'fleet' && s !== 'http' && s !== 'nodes')) {
    const env = await openBenchEnv(opts, log);
    try {
      measured = await measure(env, opts, failures);
      envNotes.push(...env.notes);
    } finally {
      await env.close();
    }
  }
  // The MySQL section sets up (and tears down) its own MariaDB database, relay and gateway.
  const mysql = await suite('mysql', opts, failures, () => runMysql(opts, log));
  // So does the fleet section: its own store and upstream databases, and three server processes.
  measured.fleet = await suite('fleet', opts, failures, () => runFleetCut(opts, log));
  // The HTTP section runs its own upstream, bare proxy and Airlock processes.
  measured.http = await suite('http', opts, failures, () => runHttp(opts, log));
  // Issue 12: airlock server nodes on one PostgreSQL store, each with a store and servers of its own.
  const storeNodes = await suite('nodes', opts, failures, () => runStoreNodes(opts, log));
  const results: BenchResults = {
    meta: {
      date: new Date().toISOString(),
      mode: opts.mode,
      rounds: opts.rounds,
      intentRounds: opts.intentRounds,
      intentSecondsPerRun: Math.max(1, Math.round(opts.intentSeconds)),
      secondsPerRun: Math.max(1, Math.round(opts.seconds)),
      node: process.version,
      pgbench: pgbenchVersion(),
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
      notes: [
        ...envNotes,
        ...(opts.transactions === undefined ? [] : [`pgbench runs are ${opts.transactions} transactions per client (-t), not timed: tps here only shows each path works`]),
        ...(mysql?.notes ?? []),
        'pgbench, PostgreSQL, PgBouncer, the byte relay and the gateway share this machine; with few cores they compete for CPU, which weighs on every proxied path',
        ...failures.map((f) => `FAILED ${f}`),
      ],
    },
    ...measured,
    targets: [],
  };
  results.targets = [...checkTargets(results), ...httpTargets(results.http), ...(mysql ? checkMysqlTargets(mysql.result) : [])];
  mkdirSync(opts.outDir, { recursive: true });
  writeFileSync(join(opts.outDir, 'latest.json'), `${JSON.stringify({ ...results, mysql: mysql?.result, storeNodes }, null, 2)}\n`);
  writeFileSync(join(opts.outDir, 'ratios.svg'), renderChart(results));
  console.log(renderTable(results));
  if (results.http) console.log(renderHttp(results.http, table));
  if (mysql) console.log(renderMysqlTable(mysql.result));
  if (storeNodes) console.log(renderStoreNodes(storeNodes));
  log(`\nwrote ${join(opts.outDir, 'latest.json')} and ratios.svg`);
  return failures.length > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

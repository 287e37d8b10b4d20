import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { verifyAudit } from '../../audit/chain.js';
import { openStore } from '../../store/store.js';
import type { BenchOptions } from '../options.js';

/**
 * Issue 12's bench: how many audited statements per second one audit chain
 * takes when 1 and when 3 `airlock server` processes append to it on one
 * PostgreSQL store. Each node gets the same pgbench load (`SELECT 1`, simple
 * protocol) through its own gateway; every statement is recorded in the one
 * chain (the writer threads' batches, serialized by the store's lock), which
 * is verified after each run.
 */

const ADMIN = 'postgres://postgres@127.0.0.1:5432/test';
const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/airlock.js');
const CLIENTS_PER_NODE = 8;
// Three server processes, pgbench and PostgreSQL start on few cores: runs shorter than 5 s measure mostly the warm-up.
const SECONDS = { full: 10, quick: 5, smoke: 1 } as const;

export interface StoreNodesRun {
  readonly nodes: number;
  readonly clients: number;
  readonly seconds: number;
  /** Statements pgbench completed per second, all nodes together. */
  readonly statementsPerSecond: number;
  /** Statement events the chain holds after the run (all of them audited). */
  readonly statementEvents: number;
  readonly chainEvents: number;
  readonly chainOk: boolean;
}

export interface StoreNodesResult {
  readonly runs: readonly StoreNodesRun[];
  /** 3 nodes ÷ 1 node, statements per second. */
  readonly ratio: number;
}

async function admin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

interface Node {
  readonly child: ChildProcess;
  readonly api: string;
  readonly gatewayPort: number;
}

function startNode(config: string, env: NodeJS.ProcessEnv): Promise<Node> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, 'server', '--config', config, '--listen', '127.0.0.1:0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const api = /listening on (http:\/\/\S+)/.exec(out);
      const gw = /postgres gateway listening on [^\s]+:(\d+)/.exec(out);
      if (api && gw) resolvePromise({ child, api: api[1]!, gatewayPort: Number(gw[1]) });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`airlock server exited with ${code} before listening:\n${out}`)));
  });
}

function stopNode(n: Node): Promise<void> {
  if (n.child.exitCode !== null) return Promise.resolve();
  return new Promise((r) => {
    n.child.once('exit', () => r());
    n.child.kill('SIGTERM');
  });
}

function pgbenchSelect1(port: number, secret: string, clients: number, seconds: number, script: string): Promise<number> {
  const args = ['-n', '-h', '127.0.0.1', '-p', String(port), '-U', 'alice', '-c', String(clients), '-j', '2', '-T', String(seconds), '-M', 'simple', '-f', script, 'bench'];
  return new Promise((resolvePromise, reject) => {
    execFile('pgbench', args, { env: { ...process.env, PGPASSWORD: secret, PGSSLMODE: 'disable' }, timeout: (seconds + 60) * 1000 }, (err, stdout, stderr) => {
      const done = /number of transactions actually processed: (\d+)/.exec(stdout);
      if (err || !done) return reject(new Error(`pgbench through the gateway on port ${port} failed: ${(stderr || stdout || String(err)).trim().slice(0, 400)}`));
      resolvePromise(Number(done[1]));
    });
  });
}

async function runNodes(nodes: number, seconds: number, role: { name: string; password: string }, work: string, log: (line: string) => void): Promise<StoreNodesRun> {
  const database = `airlock_bench_store_${randomBytes(5).toString('hex')}`;
  await admin(ADMIN, (c) => c.query(`create database ${database}`));
  const storeUrl = `postgres://postgres@127.0.0.1:5432/${database}`;
  const env = { ...process.env, AIRLOCK_BENCH_STORE: storeUrl, BENCH_UPSTREAM_PASSWORD: role.password };
  const configs = Array.from({ length: nodes }, (_, i) => {
    const path = join(work, `${database}-node-${i + 1}.yaml`);
    writeFileSync(
      path,
      `store_env: AIRLOCK_BENCH_STORE
node: { name: bench-${i + 1} }
intents_dir: ${join(work, `${database}-intents-${i + 1}`)}
users:
  - { name: alice, groups: [bench] }
resources:
  - name: bench
    kind: postgres
    upstream: { host: 127.0.0.1, port: 5432, database: test }
    roles:
      read: { credential: { user: ${role.name}, password_env: BENCH_UPSTREAM_PASSWORD }, allow: [read] }
policies:
  - { name: bench, who: { groups: [bench] }, resources: { names: [bench] }, roles: [read], max_duration: 1h, approval: none }
gateway:
  postgres: { listen: 127.0.0.1:0 }
`,
    );
    return path;
  });
  const running: Node[] = [];
  try {
    const token = (await promisify(execFile)(process.execPath, [BIN, 'tokens', 'issue', 'alice', '--config', configs[0]!], { env })).stdout.trim();
    for (const c of configs) running.push(await startNode(c, env));
    const call = async <T>(path: string, body: unknown): Promise<T> => {
      const res = await fetch(`${running[0]!.api}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };
    const asked = await call<{ grant: { id: string } }>('/api/requests', { resource: 'bench', role: 'read', duration: '30m', reason: 'bench' });
    const { secret } = await call<{ secret: string }>(`/api/grants/${asked.grant.id}/credentials`, {});
    const script = join(work, 'select1.sql');
    writeFileSync(script, 'SELECT 1;\n');
    const done = await Promise.all(running.map((n) => pgbenchSelect1(n.gatewayPort, secret, CLIENTS_PER_NODE, seconds, script)));
    const statements = done.reduce((a, b) => a + b, 0);
    if (nodes > 1) log(`  statements per node: ${done.join(', ')}`);
    await Promise.all(running.map(stopNode));
    const store = await openStore(storeUrl, work);
    try {
      const verified = await verifyAudit(store.db);
      const events = await store.db.selectFrom('audit_events').select((eb) => eb.fn.countAll<number>().as('n')).where('action', '=', 'statement').executeTakeFirstOrThrow();
      const run: StoreNodesRun = {
        nodes,
        clients: nodes * CLIENTS_PER_NODE,
        seconds,
        statementsPerSecond: statements / seconds,
        statementEvents: Number(events.n),
        chainEvents: verified.events,
        chainOk: verified.ok,
      };
      log(`  ${nodes} node(s), ${run.clients} clients: ${run.statementsPerSecond.toFixed(0)} audited statements/s; chain ${verified.ok ? 'verifies' : 'BROKEN'} (${verified.events} events, ${run.statementEvents} statements)`);
      return run;
    } finally {
      await store.close();
    }
  } finally {
    await Promise.all(running.map(stopNode));
    await admin(ADMIN, (c) => c.query(`drop database if exists ${database} with (force)`));
  }
}

/** `npm run bench -- --only nodes`: 1 node, then 3, each on a fresh store. */
export async function runStoreNodes(opts: BenchOptions, log: (line: string) => void): Promise<StoreNodesResult> {
  const seconds = SECONDS[opts.mode];
  const work = mkdtempSync(join(tmpdir(), 'airlock-bench-nodes-'));
  const role = { name: `airlock_bench_nodes_${randomBytes(4).toString('hex')}`, password: randomBytes(12).toString('hex') };
  await admin(ADMIN, (c) => c.query(`create role ${role.name} login password '${role.password}'`));
  try {
    const runs = [await runNodes(1, seconds, role, work, log), await runNodes(3, seconds, role, work, log)];
    for (const r of runs) if (!r.chainOk || r.statementEvents < r.statementsPerSecond * r.seconds) throw new Error(`the chain of the ${r.nodes}-node run does not hold every statement`);
    return { runs, ratio: runs[1]!.statementsPerSecond / runs[0]!.statementsPerSecond };
  } finally {
    await admin(ADMIN, async (c) => {
      await c.query(`select pg_terminate_backend(pid) from pg_stat_activity where usename = $1`, [role.name]);
      await c.query(`drop role if exists ${role.name}`);
    });
    rmSync(work, { recursive: true, force: true });
  }
}

export function renderStoreNodes(r: StoreNodesResult): string {
  const lines = ['', 'Audit chain with many writers (airlock server nodes on one PostgreSQL store, pgbench SELECT 1 through each gateway)'];
  for (const run of r.runs) {
    lines.push(`  ${run.nodes} node(s), ${String(run.clients).padStart(2)} clients, ${run.seconds} s: ${run.statementsPerSecond.toFixed(0).padStart(6)} audited statements/s, chain ${run.chainOk ? 'verifies' : 'BROKEN'} (${run.chainEvents} events)`);
  }
  lines.push(`  3 nodes ÷ 1 node: ×${r.ratio.toFixed(2)}`);
  return lines.join('\n');
}

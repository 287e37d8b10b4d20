import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { POSTGRES } from '../bench-database.js';
import type { BenchOptions } from '../options.js';
import { percentile, sortNumbers } from '../stats.js';

/**
 * Revocation across a fleet: three `airlock server` processes on one
 * PostgreSQL store; each sample revokes a grant through node 1 while a
 * session under it is held on node 2 and another on node 3, and times each
 * client seeing its connection end, from the API's answer (what issue 12's
 * p99 ≤ 100 ms is about) and from the moment the request was sent.
 */

export interface FleetCutResult {
  readonly nodes: number;
  readonly samples: number;
  readonly cut: number;
  readonly fromAnswerMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly fromRequestMs: { readonly p50: number; readonly p99: number; readonly max: number };
}

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/airlock.js');

async function admin(text: string, database: string = POSTGRES.database): Promise<void> {
  const c = new pg.Client({ ...POSTGRES, database });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

function runAirlock(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('close', (code) => (code === 0 ? resolvePromise(out.trim()) : reject(new Error(`airlock ${args[0]} exited ${code}: ${err}`))));
  });
}

interface Node {
  readonly child: ChildProcess;
  readonly api: string;
  readonly gatewayPort: number;
}

function startNode(configPath: string, env: NodeJS.ProcessEnv): Promise<Node> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, 'server', '--config', configPath, '--listen', '127.0.0.1:0'], {
      cwd: dirname(configPath),
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const api = /listening on (http:\/\/\S+)/.exec(out);
      const gw = /postgres gateway listening on [\d.]+:(\d+)/.exec(out);
      if (api && gw) resolvePromise({ child, api: api[1]!, gatewayPort: Number(gw[1]) });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`airlock server exited ${code} before listening:\n${out}`)));
  });
}

const stats = (xs: number[]) => {
  const s = sortNumbers(xs);
  return { p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] ?? Number.NaN };
};

export async function runFleetCut(opts: BenchOptions, log: (line: string) => void): Promise<FleetCutResult> {
  const samples = opts.mode === 'full' ? 100 : opts.mode === 'quick' ? 20 : 3;
  const suffix = randomBytes(4).toString('hex');
  const storeDb = `airlock_bench_fleet_${suffix}`;
  const upstreamDb = `airlock_bench_fleet_up_${suffix}`;
  const role = `airlock_bench_fleet_ro_${suffix}`;
  const password = randomBytes(12).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-fleet-'));
  const nodes: Node[] = [];
  // Should this process die mid-run, its servers must not outlive it.
  const killAll = () => nodes.forEach((n) => n.child.kill('SIGKILL'));
  process.once('exit', killAll);
  await admin(`create database ${storeDb}`);
  await admin(`create database ${upstreamDb}`);
  await admin(`create role ${role} login password '${password}'`);
  try {
    await admin(`create table t (id int); grant select on t to ${role}`, upstreamDb);
    const configs = [1, 2, 3].map((i) => {
      const path = join(dir, `node-${i}.yaml`);
      writeFileSync(
        path,
        `store: postgres://${POSTGRES.user}@${POSTGRES.host}:${POSTGRES.port}/${storeDb}
node: { name: bench-node-${i} }
users: [{ name: alice, groups: [oncall] }, { name: root, groups: [admins] }]
admins: { groups: [admins] }
resources:
  - name: db
    kind: postgres
    upstream: { host: ${POSTGRES.host}, port: ${POSTGRES.port}, database: ${upstreamDb} }
    roles: { read: { credential: { user: ${role}, password_env: BENCH_FLEET_PASSWORD }, allow: [read] } }
policies: [{ name: p, who: { groups: [oncall] }, resources: { names: [db] }, roles: [read], max_duration: 1h, approval: none }]
gateway: { postgres: { listen: "127.0.0.1:0" } }
`,
      );
      return path;
    });
    const env = { BENCH_FLEET_PASSWORD: password };
    const root = await runAirlock(['tokens', 'issue', 'root', '--config', configs[0]!], dir);
    const alice = await runAirlock(['tokens', 'issue', 'alice', '--config', configs[0]!], dir);
    nodes.push(...(await Promise.all(configs.map((c) => startNode(c, env)))));
    const call = async (node: Node, token: string, path: string, body?: unknown) => {
      const res = await fetch(`${node.api}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body ?? {}),
      });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as Record<string, { id: string }> & { secret: string };
    };

    const fromAnswer: number[] = [];
    const fromRequest: number[] = [];
    let cut = 0;
    for (let i = 0; i < samples; i++) {
      const grantId = (await call(nodes[0]!, alice, '/api/requests', { resource: 'db', role: 'read', duration: '10m', reason: 'bench' })).grant!.id;
      const { secret } = await call(nodes[0]!, alice, `/api/grants/${grantId}/credentials`);
      const held = await Promise.all(
        nodes.slice(1).map(async (n) => {
          const c = new pg.Client({ host: '127.0.0.1', port: n.gatewayPort, user: 'alice', database: 'db', password: secret, ssl: false });
          // The cut comes as a FATAL and then the socket's end: both must be heard, the first one timed.
          const ended = new Promise<number>((r) => {
            c.on('error', () => r(performance.now()));
            c.on('end', () => r(performance.now()));
          });
          await c.connect();
          await c.query('select 1');
          return { c, ended };
        }),
      );
      const sentAt = performance.now();
      await call(nodes[0]!, root, `/api/grants/${grantId}/revoke`, { reason: 'bench' });
      const answeredAt = performance.now();
      const timeout = new Promise<null>((r) => setTimeout(() => r(null), 5000).unref());
      for (const h of held) {
        const at = await Promise.race([h.ended, timeout]);
        if (at !== null) {
          cut++;
          fromAnswer.push(Math.max(0, at - answeredAt));
          fromRequest.push(at - sentAt);
        }
        await h.c.end().catch(() => undefined);
      }
    }
    const result: FleetCutResult = { nodes: nodes.length, samples: samples * 2, cut, fromAnswerMs: stats(fromAnswer), fromRequestMs: stats(fromRequest) };
    log(
      `  revoke on node 1 → cut on nodes 2 and 3, ${cut}/${samples * 2} sessions: from the API answer p50 ${result.fromAnswerMs.p50.toFixed(1)} ms, p99 ${result.fromAnswerMs.p99.toFixed(1)} ms; from the request p50 ${result.fromRequestMs.p50.toFixed(1)} ms, p99 ${result.fromRequestMs.p99.toFixed(1)} ms`,
    );
    return result;
  } finally {
    await Promise.all(
      nodes.map(
        (n) =>
          new Promise<void>((r) => {
            if (n.child.exitCode !== null) return r();
            n.child.once('exit', () => r());
            n.child.kill('SIGTERM');
          }),
      ),
    );
    process.removeListener('exit', killAll);
    rmSync(dir, { recursive: true, force: true });
    for (const db of [storeDb, upstreamDb]) {
      await admin(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${db}'`);
      await admin(`drop database if exists ${db}`);
    }
    await admin(`drop role if exists ${role}`);
  }
}

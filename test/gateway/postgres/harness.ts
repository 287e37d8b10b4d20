import { execFile } from 'node:child_process';
import type { Clock } from '../../../src/core/clock.js';
import type { SqlLimits } from '../../../src/core/model.js';
import type { StatementClass } from '../../../src/gateway/postgres/backend.js';
import { createPostgresGateway, type PostgresGateway, type PostgresGatewayOptions } from '../../../src/gateway/postgres/index.js';
import { FakeBackend } from './fake-backend.js';
import { scratch, uniqueName } from './pg-fixture.js';
import { toyCheck } from './toy-check.js';

export interface Harness {
  readonly gateway: PostgresGateway;
  readonly backend: FakeBackend;
  readonly port: number;
  readonly resource: string;
  readonly db: Awaited<ReturnType<typeof scratch>>;
  /** Issues a grant on the resource to a fresh user name. */
  grant(allow: StatementClass[], opts?: { expiresAt?: Date; user?: string; limits?: SqlLimits }): { user: string; secret: string; grantId: string };
  close(): Promise<void>;
}

export async function startHarness(opts: Partial<Pick<PostgresGatewayOptions, 'tls' | 'clock' | 'authThrottle' | 'signingIn' | 'statementText'>> & { clock?: Clock } = {}): Promise<Harness> {
  const db = await scratch();
  const backend = new FakeBackend();
  const resource = uniqueName('orders-db').replace('_', '-');
  const gateway = await createPostgresGateway({ backend, listen: { host: '127.0.0.1', port: 0 }, checkSql: toyCheck, ...opts });
  return {
    gateway,
    backend,
    port: gateway.address().port,
    resource,
    db,
    grant(allow, g = {}) {
      const user = g.user ?? uniqueName('alice');
      const { grantId, secret } = backend.issue({ user, resource, allow, target: db.target, expiresAt: g.expiresAt, limits: g.limits });
      return { user, secret, grantId };
    },
    async close() {
      await gateway.close();
      await db.drop();
    },
  };
}

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command with a bounded time, never throwing on a non-zero exit. */
export function run(cmd: string, args: string[], env: Record<string, string>, input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

export function psql(h: Harness, who: { user: string; secret: string }, args: string[], input?: string, extraEnv: Record<string, string> = {}): Promise<Run> {
  return run('psql', ['-X', '-A', '-t', '-h', '127.0.0.1', '-p', String(h.port), '-U', who.user, '-d', h.resource, ...args], {
    PGPASSWORD: who.secret,
    PGSSLMODE: 'disable',
    PGCONNECT_TIMEOUT: '10',
    ...extraEnv,
  }, input);
}

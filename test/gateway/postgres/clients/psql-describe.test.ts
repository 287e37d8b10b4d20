import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../harness.js';
import { DENIED, type ScopedGateway, deniedIn, startScopedGateway } from './scoped-gateway.js';

/**
 * psql's describe commands through the gateway, under a read role scoped to
 * `public.*` that denies `public.payment_tokens`, against the real server.
 * The catalogs they read describe the schema (PostgreSQL shows every
 * table's name to every user), so listings name the denied table; its rows
 * are never shown, and describing an allowed table shows none of its columns.
 */

let g: ScopedGateway;

beforeAll(async () => {
  g = await startScopedGateway();
});

afterAll(async () => {
  await g?.close();
});

const psql = (command: string) => run('psql', ['-X', '-v', 'ON_ERROR_STOP=1', '-c', command], g.libpqEnv);

const COMMANDS = ['\\d', '\\d+ orders', '\\dt', '\\dt+', '\\df', '\\df+', '\\dv', '\\dv+', '\\di', '\\di+', '\\ds', '\\dn', '\\d+ paid_orders', '\\d orders_status_idx', '\\sf order_total', '\\dT', '\\dp', '\\dx'];

describe('psql describe commands under a table-scoped read role', () => {
  it('each one works and shows no row of the denied table', async () => {
    const outputs = await Promise.all(COMMANDS.map(async (c) => [c, await psql(c)] as const));
    for (const [command, r] of outputs) {
      expect({ command, code: r.code, stderr: r.stderr }).toEqual({ command, code: 0, stderr: '' });
      expect(r.stdout, command).not.toContain(DENIED.value);
    }
    const byCommand = new Map(outputs);
    expect(byCommand.get('\\d+ orders')?.stdout).toContain('orders_status_idx');
    expect(byCommand.get('\\df')?.stdout).toContain('order_total');
    expect(byCommand.get('\\dv')?.stdout).toContain('paid_orders');
    expect(byCommand.get('\\di')?.stdout).toContain('orders_pkey');
    // Describing allowed tables names none of the denied table's columns or indexes.
    for (const command of ['\\d+ orders', '\\d+ paid_orders', '\\di+', '\\d orders_status_idx']) {
      expect(byCommand.get(command)?.stdout, command).not.toContain(DENIED.column);
    }
  });

  it('reading the denied table is refused, from psql as from any client', async () => {
    for (const sql of [`select * from ${DENIED.table}`, `table public.${DENIED.table}`, `copy ${DENIED.table} to stdout`]) {
      const r = await psql(sql);
      expect(r.code, sql).not.toBe(0);
      expect(r.stderr, sql).toContain(`does not allow table public.${DENIED.table}`);
      expect(deniedIn(r.stdout + r.stderr.replace(`public.${DENIED.table}`, '')), sql).toBeUndefined();
    }
  });
});

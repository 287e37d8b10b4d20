import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../harness.js';
import { DENIED, type ScopedGateway, startScopedGateway } from './scoped-gateway.js';

/**
 * SQLAlchemy's reflection (what Alembic autogenerate and admin tools run)
 * and Django's `inspectdb`, with Debian's python3-sqlalchemy, python3-django
 * and python3-psycopg2, through the gateway under a read role scoped to
 * `public.*` that denies `public.payment_tokens`.
 */

const PYTHON = '/usr/bin/python3';
const script = (name: string) => fileURLToPath(new URL(`./${name}`, import.meta.url));
const ALLOWED = ['orders', 'order_items', 'customers'];

let g: ScopedGateway;

beforeAll(async () => {
  g = await startScopedGateway();
});

afterAll(async () => {
  await g?.close();
});

describe('Python ORMs reflect a database under a table-scoped read role', () => {
  it('SQLAlchemy: columns, primary keys, foreign keys, indexes and a select of every allowed table', async () => {
    const r = await run(PYTHON, [script('reflect_sqlalchemy.py'), ...ALLOWED], g.libpqEnv);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("orders pk {'constrained_columns': ['id'], 'name': 'orders_pkey'}");
    expect(r.stdout).toContain("'referred_table': 'orders', 'referred_columns': ['id']");
    expect(r.stdout).toContain("'name': 'orders_status_idx'");
    expect(r.stdout).toContain("reflected orders ['id', 'customer_id', 'status', 'total']");
    expect(r.stdout).toContain("(1, 1, 'paid', Decimal('120.50'))");
    for (const s of [DENIED.value, DENIED.column, DENIED.index]) expect(r.stdout).not.toContain(s);
  });

  it('SQLAlchemy reflecting the denied table is refused without showing its rows', async () => {
    const r = await run(PYTHON, [script('reflect_sqlalchemy.py'), DENIED.table], g.libpqEnv);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`does not allow table public.${DENIED.table}`);
    expect(r.stdout + r.stderr).not.toContain(DENIED.value);
  });

  it('Django inspectdb writes models for the allowed tables', async () => {
    const r = await run(PYTHON, [script('inspect_django.py'), ...ALLOWED], g.libpqEnv);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('class Orders(models.Model):');
    expect(r.stdout).toContain("customer = models.ForeignKey('Customers', models.DO_NOTHING)");
    expect(r.stdout).toContain("unique_together = (('order', 'sku'),)");
    for (const s of [DENIED.value, DENIED.column]) expect(r.stdout).not.toContain(s);
  });

  it('Django inspectdb of the whole database writes the allowed models and says why it skipped the denied table', async () => {
    const r = await run(PYTHON, [script('inspect_django.py')], g.libpqEnv);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('class Customers(models.Model):');
    expect(r.stdout).toContain(`# Unable to inspect table '${DENIED.table}'`);
    expect(r.stdout).toContain(`does not allow table public.${DENIED.table}`);
    for (const s of [DENIED.value, DENIED.column]) expect(r.stdout).not.toContain(s);
  });
});

import { describe, expect, it } from 'vitest';
import { ADMIN, WRITE, expectAllowed, expectRefused, notAllowed } from './helpers.js';

describe('a read role cannot call side-effecting functions anywhere in a statement', () => {
  it.each([
    "SELECT set_config('default_transaction_read_only', 'off', false)",
    'SELECT pg_terminate_backend(123)',
    'SELECT pg_cancel_backend(123)',
    'SELECT pg_reload_conf()',
    'SELECT pg_rotate_logfile()',
    "SELECT lo_import('/etc/passwd')",
    "SELECT lo_export(16400, '/tmp/x')",
    'SELECT lo_unlink(16400)',
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT pg_read_binary_file('postgresql.conf')",
    "SELECT pg_ls_dir('.')",
    "SELECT pg_stat_file('postgresql.conf')",
    "SELECT dblink_exec('host=x', 'DROP TABLE orders')",
    "SELECT * FROM dblink('host=x', 'select 1') AS t(a int)",
    'SELECT pg_advisory_lock(1)',
    'SELECT pg_try_advisory_xact_lock(1)',
    "SELECT nextval('orders_id_seq')",
    "SELECT setval('orders_id_seq', 1)",
    'SELECT txid_current()',
    'SELECT pg_current_xact_id()',
    "SELECT pg_notify('jobs', 'go')",
    "SELECT query_to_xml('select * from payment_tokens', true, true, '')",
    "SELECT query_to_xmlschema('select 1', true, true, '')",
    "SELECT table_to_xml('payment_tokens', true, true, '')",
    "SELECT cursor_to_xml('c', 10, true, true, '')",
    "SELECT database_to_xml(true, true, '')",
    "SELECT * FROM ts_stat('select body from messages')",
    "SELECT ts_rewrite('a'::tsquery, 'select q, s from rules')",
    "SELECT pg_create_restore_point('x')",
    'SELECT pg_switch_wal()',
    'SELECT pg_promote()',
    "SELECT pg_logical_emit_message(true, 'x', 'y')",
    "SELECT pg_create_logical_replication_slot('s', 'pgoutput')",
    "SELECT pg_replication_origin_create('o')",
    'SELECT pg_import_system_collations(2200)',
    'SELECT pg_stat_reset()',
    "SELECT pg_file_write('x', 'y', false)",
  ])('refuses %s', async (sql) => {
    const fn = /(\w+)\(/.exec(sql.replace(/^SELECT (\* FROM )?/, ''))?.[1] ?? '';
    expect(await expectRefused(sql)).toBe(notAllowed(`function ${fn}()`));
  });

  it.each([
    ['in WHERE', "SELECT * FROM orders WHERE set_config('role', 'postgres', false) IS NOT NULL"],
    ['in ORDER BY', 'SELECT * FROM orders ORDER BY pg_advisory_lock(id)'],
    ['in GROUP BY / HAVING', 'SELECT status FROM orders GROUP BY status HAVING count(pg_terminate_backend(1)) > 0'],
    ['in a JOIN condition', 'SELECT * FROM orders o JOIN customers c ON pg_cancel_backend(c.id)'],
    ['in a scalar subquery', "SELECT (SELECT nextval('s'))"],
    ['in EXISTS', "SELECT 1 WHERE EXISTS (SELECT pg_notify('a', 'b'))"],
    ['in a CTE body', "WITH x AS (SELECT set_config('a.b', 'c', false)) SELECT * FROM x"],
    ['in a UNION arm', "SELECT 1 UNION SELECT length(pg_read_file('/etc/passwd'))"],
    ['in FROM', 'SELECT * FROM pg_advisory_lock(1)'],
    ['in ROWS FROM', 'SELECT * FROM ROWS FROM (generate_series(1,2), pg_advisory_lock(1))'],
    ['in LATERAL', 'SELECT * FROM orders o, LATERAL (SELECT pg_terminate_backend(o.id)) t'],
    ['in a window frame', 'SELECT sum(id) OVER (ORDER BY pg_advisory_lock(id)) FROM orders'],
    ['in an aggregate FILTER', 'SELECT count(*) FILTER (WHERE pg_advisory_lock(id) IS NULL) FROM orders'],
    ['in a CASE', "SELECT CASE WHEN true THEN set_config('a.b', 'c', false) END"],
    ['as a function argument', "SELECT lower(set_config('a.b', 'c', false))"],
    ['in a VALUES list', "VALUES (set_config('a.b', 'c', false))"],
    ['in LIMIT', 'SELECT * FROM orders LIMIT pg_advisory_lock(1)::text::int'],
    ['in a JSON_TABLE argument', "SELECT * FROM JSON_TABLE(set_config('a.b','[]',false)::jsonb, '$[*]' COLUMNS (a int PATH '$'))"],
    ['in a COPY query', "COPY (SELECT set_config('a.b','c',false)) TO STDOUT"],
    ['in a cursor query', "DECLARE c CURSOR FOR SELECT set_config('a.b','c',false)"],
  ])('refuses a side-effecting function %s', async (_where, sql) => {
    await expectRefused(sql);
  });

  it('sees through quoting, case and unicode escapes in function names', async () => {
    for (const sql of [
      `SELECT "set_config"('a.b', 'c', false)`,
      `SELECT SET_CONFIG('a.b', 'c', false)`,
      `SELECT U&"set\\005fconfig"('a.b', 'c', false)`,
      `SELECT pg_catalog . set_config('a.b', 'c', false)`,
    ]) {
      expect(await expectRefused(sql), sql).toBe(notAllowed('function set_config()'));
    }
  });

  it('cannot read other sessions\' statements through the functions behind pg_stat_activity', async () => {
    expect(await expectRefused('SELECT * FROM pg_stat_get_activity(NULL)')).toBe(notAllowed('function pg_stat_get_activity()'));
    await expectRefused('SELECT pg_stat_get_backend_activity(s) FROM pg_stat_get_backend_idset() s');
    await expectAllowed("SELECT pg_stat_get_numscans('orders'::regclass), pg_stat_get_live_tuples('orders'::regclass)");
  });

  it('refuses user-defined and schema-qualified functions, whose bodies may write', async () => {
    expect(await expectRefused('SELECT archive_old_orders()')).toBe(notAllowed('function archive_old_orders()'));
    expect(await expectRefused('SELECT public.lower(name) FROM customers')).toBe(notAllowed('function public.lower()'));
    expect(await expectRefused('SELECT * FROM reporting.monthly_totals(2024)')).toBe(
      notAllowed('function reporting.monthly_totals()'),
    );
  });

  it('trusts pg_catalog-qualified built-ins like any client library writes them', async () => {
    await expectAllowed('SELECT pg_catalog.lower(name), pg_catalog.count(*) FROM customers GROUP BY 1');
    expect(await expectRefused("SELECT pg_catalog.set_config('a.b', 'c', false)")).toBe(notAllowed('function set_config()'));
  });

  it('refuses operators PostgreSQL does not define, which call arbitrary functions', async () => {
    expect(await expectRefused('SELECT 1 OPERATOR(public.+) 2')).toBe(notAllowed('operator public.+'));
    expect(await expectRefused('SELECT a === b FROM orders')).toBe(notAllowed('operator ==='));
    expect(await expectRefused('SELECT 1 OPERATOR(public.=) ANY (SELECT 1)')).toBe(notAllowed('operator public.='));
    expect(await expectRefused('SELECT * FROM orders ORDER BY id USING OPERATOR(public.<)')).toBe(notAllowed('operator public.<'));
    await expectAllowed('SELECT 1 OPERATOR(pg_catalog.+) 2, 1 = ANY (SELECT 1), 2 BETWEEN 1 AND 3, 2 NOT BETWEEN SYMMETRIC 3 AND 1');
    await expectAllowed("SELECT * FROM orders WHERE status NOT LIKE 'a%' AND status !~* 'b' ORDER BY id USING >");
  });

  it('refuses TABLESAMPLE methods other than the built-in ones', async () => {
    await expectAllowed('SELECT * FROM orders TABLESAMPLE BERNOULLI (10) REPEATABLE (42)');
    await expectAllowed('SELECT * FROM orders TABLESAMPLE SYSTEM (1)');
    expect(await expectRefused('SELECT * FROM orders TABLESAMPLE evil_sampler (10)')).toBe(notAllowed('TABLESAMPLE evil_sampler'));
  });

  it('allows harmless functions the brief singles out: pg_sleep, current_setting, pg_backend_pid', async () => {
    await expectAllowed("SELECT pg_sleep(0), current_setting('search_path'), pg_backend_pid()");
  });

  it('lets a write role use sequences and advisory locks but not admin functions', async () => {
    await expectAllowed("INSERT INTO orders (id) VALUES (nextval('orders_id_seq'))", WRITE);
    await expectAllowed('SELECT pg_advisory_xact_lock(42)', WRITE);
    expect(await expectRefused("SELECT set_config('role', 'postgres', false)", WRITE)).toBe(
      notAllowed('function set_config()', WRITE),
    );
    expect(await expectRefused('SELECT my_trigger_helper()', WRITE)).toBe(notAllowed('function my_trigger_helper()', WRITE));
  });

  it('lets an unrestricted admin role call anything', async () => {
    await expectAllowed("SELECT set_config('a.b', 'c', false), archive_old_orders(), pg_reload_conf()", ADMIN);
  });
});

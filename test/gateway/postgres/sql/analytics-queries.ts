import { readFileSync } from 'node:fs';

/**
 * Ordinary read SQL an engineer types during an incident or an analysis.
 * Shared by the policy tests (each must be allowed for a read role) and by the
 * real-PostgreSQL test (each must run inside a READ ONLY transaction).
 * Tables: customers(id, name, email, created_at, meta jsonb), orders(id,
 * customer_id, status, total, created_at, tags text[]), order_items(order_id,
 * sku, qty, price).
 */
/** SQL/JSON syntax from PostgreSQL 17 (the parser is 17/18; the server under test may be older). */
export const PG17_QUERIES: readonly string[] = [
  "SELECT JSON_VALUE(meta, '$.plan'), JSON_QUERY(meta, '$.limits'), meta IS JSON OBJECT FROM customers",
  "SELECT * FROM JSON_TABLE('[{\"a\":1}]'::jsonb, '$[*]' COLUMNS (a int PATH '$.a')) jt",
];

export const ANALYTICS_QUERIES: readonly string[] = [
  'SELECT * FROM orders LIMIT 10',
  'TABLE customers',
  'VALUES (1, 2), (3, 4)',
  'SELECT 1',
  'SELECT count(*) FROM orders WHERE status = $1',
  "SELECT date_trunc('day', created_at) AS day, count(*), sum(total), avg(total), min(total), max(total) FROM orders GROUP BY 1 ORDER BY 1",
  "SELECT extract(year FROM created_at) AS y, to_char(created_at, 'YYYY-MM') AS m, round(sum(total)::numeric, 2) FROM orders GROUP BY 1, 2",
  "SELECT lower(name), upper(email), length(name), substring(email from position('@' in email) + 1), split_part(email, '@', 2) FROM customers",
  "SELECT coalesce(nullif(trim(name), ''), 'n/a'), greatest(1, 2), least(3, 4) FROM customers",
  'SELECT customer_id, string_agg(status, \',\' ORDER BY created_at), array_agg(id) FROM orders GROUP BY customer_id',
  'SELECT id, row_number() OVER w, rank() OVER w, lag(total) OVER w, lead(total) OVER w FROM orders WINDOW w AS (PARTITION BY customer_id ORDER BY created_at)',
  "SELECT meta->>'plan', meta->'limits', jsonb_typeof(meta), jsonb_array_length(coalesce(meta->'seats', '[]'::jsonb)), meta ? 'plan' FROM customers",
  "SELECT k, v FROM customers c, jsonb_each_text(c.meta) AS e(k, v) WHERE c.meta @> '{\"plan\": \"pro\"}'",
  "SELECT d::date, count(o.id) FROM generate_series(now() - interval '7 days', now(), interval '1 day') d LEFT JOIN orders o ON o.created_at::date = d::date GROUP BY 1",
  'SELECT now(), current_date, current_timestamp, current_user, session_user, version(), pg_backend_pid()',
  "SELECT pg_size_pretty(pg_total_relation_size('orders')), pg_size_pretty(pg_relation_size('customers')), 'orders'::regclass",
  "SELECT current_setting('TimeZone'), pg_sleep(0), pg_is_in_recovery()",
  'WITH recent AS (SELECT * FROM orders WHERE created_at > now() - interval \'1 day\') SELECT status, count(*) FROM recent GROUP BY status',
  'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) SELECT sum(i) FROM n',
  'SELECT c.name, sum(oi.qty * oi.price) FROM customers c JOIN orders o ON o.customer_id = c.id JOIN order_items oi ON oi.order_id = o.id GROUP BY c.name HAVING sum(oi.qty) > 0',
  'SELECT * FROM orders o WHERE EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id) AND o.customer_id IN (SELECT id FROM customers)',
  'SELECT id FROM orders UNION SELECT id FROM customers INTERSECT SELECT customer_id FROM orders EXCEPT SELECT 0',
  'SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY total), mode() WITHIN GROUP (ORDER BY status) FROM orders',
  'SELECT status, count(*) FILTER (WHERE total > 100) FROM orders GROUP BY ROLLUP (status)',
  'SELECT DISTINCT ON (customer_id) customer_id, id FROM orders ORDER BY customer_id, created_at DESC',
  'SELECT unnest(tags), cardinality(tags), array_to_string(tags, \'|\') FROM orders',
  "SELECT CASE WHEN total > 100 THEN 'big' ELSE 'small' END, total::int, CAST(total AS text) FROM orders",
  "SELECT age(now(), created_at), justify_interval(now() - created_at), date_part('epoch', now() - created_at) FROM orders",
  'SELECT o.*, x.n FROM orders o CROSS JOIN LATERAL (SELECT count(*) AS n FROM order_items i WHERE i.order_id = o.id) x',
  "SELECT md5(email), encode(sha256(email::bytea), 'hex'), gen_random_uuid() IS NOT NULL FROM customers",
  "SELECT regexp_replace(name, '\\s+', ' ', 'g'), regexp_match(email, '@(.*)$'), name ILIKE 'a%', name ~ '^A' FROM customers",
  "SELECT jsonb_build_object('id', id, 'total', total), json_agg(o) FROM orders o GROUP BY id",
  "SELECT to_jsonb(c), row_to_json(c) FROM customers c",
  'SELECT * FROM orders ORDER BY total DESC NULLS LAST OFFSET 5 FETCH FIRST 3 ROWS ONLY',
  "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' LIMIT 5",
  "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1",
  'SELECT relname, n_live_tup, n_dead_tup FROM pg_stat_user_tables',
  "SELECT count(*) FROM pg_locks WHERE NOT granted",
  'SELECT * FROM orders TABLESAMPLE SYSTEM (50)',
  "SELECT xmlelement(name o, xmlattributes(id AS id), status) FROM orders",
  "SELECT to_tsvector('english', name) @@ plainto_tsquery('english', 'smith') FROM customers",
  "SELECT int4range(1, 10) @> 5, daterange(current_date, current_date + 7) && daterange(current_date, null)",
  "SELECT width_bucket(total, 0, 1000, 10), ntile(4) OVER (ORDER BY total), cume_dist() OVER (ORDER BY total) FROM orders",
  "SELECT format('%s-%s', id, status), concat_ws('/', id, status), left(status, 2), right(status, 2), lpad(id::text, 6, '0') FROM orders",
  'SELECT num_nonnulls(o.id, o.status), pg_typeof(o.total), pg_column_size(c.meta) FROM orders o, customers c LIMIT 1',
];

/** Parameters for the queries above that use placeholders. */
export const QUERY_PARAMS: Readonly<Record<string, readonly unknown[]>> = {
  'SELECT count(*) FROM orders WHERE status = $1': ['paid'],
};

/** The queries psql 15 sends for \dt, \d table, \d+ view, \dn, \l, \du, \df, \dx, \dT, \ds (captured with psql -E). */
export const PSQL_DESCRIBE_QUERIES: readonly string[] = readFileSync(new URL('./fixtures/psql-describe.sql', import.meta.url), 'utf8')
  .split('----\n')
  .map((q) => q.trim())
  .filter((q) => q.length > 0);

import pg from 'pg';
import { describeConformance, type ConformanceClient } from '../conformance.js';
import { admin, scratch } from './pg-fixture.js';

/** The Postgres adapter against the kernel's conformance suite, with node-postgres as the client. */
describeConformance({
  kind: 'postgres',
  async setup(name) {
    const db = await scratch();
    return {
      resourceYaml: `
  - name: ${name}
    kind: postgres
    upstream: { host: 127.0.0.1, port: 5432, database: test }
    roles:
      read: { credential: { user: ${db.role}, password_env: CONF_PG_PASSWORD }, allow: [read] }
      write: { credential: { user: ${db.role}, password_env: CONF_PG_PASSWORD }, allow: [read, write] }`,
      gatewayYaml: 'postgres: { listen: 127.0.0.1:0 }',
      env: { CONF_PG_PASSWORD: db.password },
      written: (marker) => admin(async (c) => ((await c.query(`select 1 from ${db.schema}.orders where item = $1`, [marker])).rowCount ?? 0) > 0),
      teardown: () => db.drop(),
    };
  },
  async connect(gateway, user, secret, resource): Promise<ConformanceClient> {
    const c = new pg.Client({ host: gateway.host, port: gateway.port, user, password: secret, database: resource });
    const lost = new Promise<string>((resolve) => c.on('error', (e) => resolve(e.message)));
    await c.connect();
    const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
    return {
      run: (sql) => c.query(sql).then(() => null, message),
      runUntilCut: () => Promise.race([c.query('select pg_sleep(60)').then(() => 'not cut', message), lost]),
      async sendAndLeave(sql) {
        void c.query(sql).catch(() => undefined);
        await c.end().catch(() => undefined);
      },
      close: () => c.end().catch(() => undefined),
    };
  },
  statements: {
    read: 'select count(*) from orders',
    write: (marker) => `insert into orders (id, item) values ((random() * 1000000000)::int, '${marker}')`,
  },
});

import mysql from 'mysql2/promise';
import { describeConformance, type ConformanceClient } from '../conformance.js';
import { rootConnection, scratchDatabase } from './mariadb-fixture.js';

/** The MySQL adapter against the kernel's conformance suite: a real control plane, MariaDB 10.11 upstream, mysql2 as the client. */
describeConformance({
  kind: 'mysql',
  async setup(name) {
    const db = await scratchDatabase('airlock_conf');
    return {
      resourceYaml: `
  - name: ${name}
    kind: mysql
    upstream: { host: 127.0.0.1, port: 3306, database: ${db.database} }
    roles:
      read: { credential: { user: ${db.user}, password_env: CONF_MY_PASSWORD }, allow: [read] }
      write: { credential: { user: ${db.user}, password_env: CONF_MY_PASSWORD }, allow: [read, write] }`,
      gatewayYaml: 'mysql: { listen: 127.0.0.1:0 }',
      env: { CONF_MY_PASSWORD: db.password },
      async written(marker) {
        const root = await rootConnection();
        try {
          const [rows] = await root.query(`SELECT 1 FROM \`${db.database}\`.orders WHERE item = ?`, [marker]);
          return (rows as unknown[]).length > 0;
        } finally {
          await root.end();
        }
      },
      teardown: () => db.drop(),
    };
  },
  async connect(gateway, user, secret, resource): Promise<ConformanceClient> {
    const c = await mysql.createConnection({ host: gateway.host, port: gateway.port, user, password: secret, database: resource });
    const lost = new Promise<string>((resolve) => c.on('error', (e) => resolve(e.message)));
    const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
    return {
      run: (sql) => c.query(sql).then(() => null, message),
      runUntilCut: () => Promise.race([c.query('SELECT SLEEP(60)').then(() => 'not cut', message), lost]),
      async sendAndLeave(sql) {
        void c.query(sql).catch(() => undefined);
        c.destroy();
      },
      close: () => c.end().catch(() => undefined),
    };
  },
  statements: {
    read: 'SELECT COUNT(*) FROM orders',
    write: (marker) => `INSERT INTO orders (id, item) VALUES (FLOOR(RAND() * 1000000000), '${marker}')`,
  },
});

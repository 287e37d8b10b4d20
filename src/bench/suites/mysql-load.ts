import mysql from 'mysql2/promise';
import { TABLE_ROWS, type MysqlEndpoint } from './mysql-env.js';

/**
 * sysbench's oltp_point_select through `mysql2`: one row by primary key,
 * over and over. `text` sends the id as a literal in COM_QUERY (sysbench
 * with --db-ps-mode=disable: each text differs, so the gateway's decision
 * cache helps only as much as ids repeat); `prepared` prepares once per
 * connection and sends COM_STMT_EXECUTE.
 */

export type MysqlProtocol = 'text' | 'prepared';

export const POINT_SELECT = 'SELECT c FROM sbtest1 WHERE id = ?';

export function connectTo(e: MysqlEndpoint): Promise<mysql.Connection> {
  return mysql.createConnection({ host: e.host, port: e.port, user: e.user, password: e.password, database: e.database });
}

export async function pointSelect(c: mysql.Connection, protocol: MysqlProtocol): Promise<void> {
  const id = 1 + Math.floor(Math.random() * TABLE_ROWS);
  if (protocol === 'text') await c.query(`SELECT c FROM sbtest1 WHERE id = ${id}`);
  else await c.execute(POINT_SELECT, [id]);
}

/** Statements per second over `seconds`, `clients` connections each running point selects back to back. Sign-ins are outside the timed window. */
export async function pointSelectRate(e: MysqlEndpoint, clients: number, protocol: MysqlProtocol, seconds: number): Promise<number> {
  const connections = await Promise.all(Array.from({ length: clients }, () => connectTo(e)));
  try {
    // One statement each first: the prepare (for `prepared`) and the first-use costs stay out of the count.
    await Promise.all(connections.map((c) => pointSelect(c, protocol)));
    let done = 0;
    const started = performance.now();
    const deadline = started + seconds * 1000;
    await Promise.all(
      connections.map(async (c) => {
        while (performance.now() < deadline) {
          await pointSelect(c, protocol);
          done++;
        }
      }),
    );
    return done / ((performance.now() - started) / 1000);
  } finally {
    await Promise.all(connections.map((c) => c.end().catch(() => undefined)));
  }
}

/** Round-trip times in µs of `n` point selects on one connection. */
export async function roundTrips(c: mysql.Connection, protocol: MysqlProtocol, n: number, into: number[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await pointSelect(c, protocol);
    into.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
}

/** Where a client connects: PostgreSQL itself, the gateway, PgBouncer, or the byte relay. */
export interface Endpoint {
  readonly label: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** The grant secret for the gateway; PostgreSQL, PgBouncer and the relay (which only passes PostgreSQL's own trust sign-in through) use trust auth. */
  readonly password?: string;
}

/** Environment for libpq clients (pgbench): no TLS on any path, so all of them pay the same. */
export function libpqEnv(e: Endpoint): NodeJS.ProcessEnv {
  return { ...process.env, PGPASSWORD: e.password ?? '', PGSSLMODE: 'disable', PGCONNECT_TIMEOUT: '10' };
}

export function pgConfig(e: Endpoint) {
  return { host: e.host, port: e.port, database: e.database, user: e.user, password: e.password, ssl: false } as const;
}

export { createPostgresGateway, redactPostgres, type PostgresGateway, type PostgresGatewayOptions } from './listener.js';
export type { CheckSql } from './statement-check.js';
export type { GatewayTls } from './tls-config.js';
export { PgGatewayError, type PgGatewayErrorCode } from './errors.js';

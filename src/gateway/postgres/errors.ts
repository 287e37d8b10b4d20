import { SqlState } from './protocol/codes.js';

/**
 * Every failure in the Postgres gateway is one of these: a stable `code` the
 * session maps to an end reason, and the SQLSTATE the client will see.
 * Messages never carry the upstream password or a grant secret.
 */
export type PgGatewayErrorCode =
  | 'protocol_violation'
  | 'message_too_large'
  | 'unsupported_protocol'
  | 'auth_failed'
  | 'auth_throttled'
  | 'upstream_unreachable'
  | 'upstream_auth_refused'
  | 'upstream_protocol'
  | 'upstream_unsupported_auth'
  | 'upstream_tls_refused'
  | 'store_unavailable'
  | 'internal';

const SQLSTATE_BY_CODE: Readonly<Record<PgGatewayErrorCode, string>> = {
  protocol_violation: SqlState.ProtocolViolation,
  message_too_large: SqlState.ProtocolViolation,
  unsupported_protocol: SqlState.FeatureNotSupported,
  auth_failed: SqlState.InvalidPassword,
  auth_throttled: SqlState.InvalidAuthorization,
  upstream_unreachable: SqlState.ConnectionFailure,
  upstream_auth_refused: SqlState.InvalidAuthorization,
  upstream_protocol: SqlState.ConnectionFailure,
  upstream_unsupported_auth: SqlState.InvalidAuthorization,
  upstream_tls_refused: SqlState.ConnectionFailure,
  store_unavailable: SqlState.CannotConnectNow,
  internal: SqlState.InternalError,
};

export class PgGatewayError extends Error {
  readonly sqlstate: string;

  constructor(
    readonly code: PgGatewayErrorCode,
    message: string,
    /** The upstream's own words, for the audit and the server log only: never sent to the client. */
    readonly upstreamDetail?: string,
  ) {
    super(message);
    this.name = 'PgGatewayError';
    this.sqlstate = SQLSTATE_BY_CODE[code];
  }
}

export const protocolViolation = (message: string) => new PgGatewayError('protocol_violation', message);

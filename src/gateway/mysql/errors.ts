import { ErrorCode, type ErrorKind } from './protocol/codes.js';

/**
 * Every failure in the MySQL gateway is one of these: a stable `code` the
 * session maps to an end reason, and the MySQL error number and SQLSTATE the
 * client will see. Messages never carry the upstream password or a grant secret.
 */
export type MysqlGatewayErrorCode =
  | 'protocol_violation'
  | 'packet_too_large'
  | 'unsupported_client'
  | 'auth_failed'
  | 'tls_required'
  | 'upstream_unreachable'
  | 'upstream_auth_refused'
  | 'upstream_protocol'
  | 'upstream_unsupported_auth'
  | 'upstream_tls_refused'
  | 'store_unavailable'
  | 'internal';

const KIND_BY_CODE: Readonly<Record<MysqlGatewayErrorCode, ErrorKind>> = {
  protocol_violation: 'HandshakeError',
  packet_too_large: 'PacketTooLarge',
  unsupported_client: 'HandshakeError',
  auth_failed: 'AccessDenied',
  tls_required: 'SecureTransportRequired',
  upstream_unreachable: 'BadHost',
  upstream_auth_refused: 'AccessDenied',
  upstream_protocol: 'Unknown',
  upstream_unsupported_auth: 'AccessDenied',
  upstream_tls_refused: 'BadHost',
  store_unavailable: 'ServerShutdown',
  internal: 'Unknown',
};

export class MysqlGatewayError extends Error {
  readonly errno: number;
  readonly sqlstate: string;

  constructor(
    readonly code: MysqlGatewayErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MysqlGatewayError';
    const kind = ErrorCode[KIND_BY_CODE[code]];
    this.errno = kind.code;
    this.sqlstate = kind.sqlstate;
  }
}

export const protocolViolation = (message: string) => new MysqlGatewayError('protocol_violation', message);

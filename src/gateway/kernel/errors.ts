/**
 * A failure the kernel or the control-plane port reports to an adapter, with
 * a stable code; the adapter says it to the client in its protocol's words
 * (a Postgres FATAL, a MySQL error packet, an HTTP status). Messages are
 * written for the user and never carry a credential.
 */
export type GatewayErrorCode = 'auth_failed' | 'upstream_refused' | 'upstream_unreachable' | 'audit_unavailable' | 'store_unavailable' | 'internal';

export class GatewayError extends Error {
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}

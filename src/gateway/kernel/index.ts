export { createGatewayKernel, type GatewayKernel, type KernelOptions } from './kernel.js';
export { GatewaySession, AUDIT_FAILED, type Intent, type Outcome, type SessionSummary, type SessionWire } from './gateway-session.js';
export { auditTextFor, type AuditText, type StatementTextMode } from './audit-text.js';
export { GatewayError, type GatewayErrorCode } from './errors.js';
export type * from './port.js';

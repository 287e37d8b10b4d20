/**
 * Every refusal Airlock gives is one of these: a stable `code` that tools can
 * branch on, a `kind` the HTTP layer maps to a status, and a message written
 * for the person who will read it.
 */
export type ErrorKind = 'invalid' | 'unauthenticated' | 'forbidden' | 'not_found' | 'conflict' | 'rate_limited' | 'unavailable';

export class AirlockError extends Error {
  constructor(
    readonly code: string,
    readonly kind: ErrorKind,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AirlockError';
  }
}

export const invalid = (code: string, message: string, details?: Record<string, unknown>) =>
  new AirlockError(code, 'invalid', message, details);
export const forbidden = (code: string, message: string) => new AirlockError(code, 'forbidden', message);
export const notFound = (code: string, message: string) => new AirlockError(code, 'not_found', message);
export const conflict = (code: string, message: string) => new AirlockError(code, 'conflict', message);

/** Which maximum a duration ran into, for tools: the same facts the message names. */
export interface LimitDetails extends Record<string, unknown> {
  readonly max_duration: string;
  readonly max_duration_seconds: number;
  readonly max_set_by: { readonly kind: 'policy'; readonly policy: string } | { readonly kind: 'role'; readonly role: string; readonly resource: string } | { readonly kind: 'resource'; readonly resource: string };
  /** For an extension: the grant's life so far (first start to current end), and what is left of the maximum. */
  readonly used?: string;
  readonly used_seconds?: number;
  readonly extendable?: string;
  readonly extendable_seconds?: number;
}

/** A request or an extension longer than a maximum allows; never cut silently, always refused with the maximum named. */
export class LongerThanAllowed extends AirlockError {
  constructor(
    code: 'duration_too_long' | 'extension_too_long',
    message: string,
    readonly limit: LimitDetails,
  ) {
    super(code, 'invalid', message, limit);
  }
}

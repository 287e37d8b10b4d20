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

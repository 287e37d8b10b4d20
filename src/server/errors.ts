import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AirlockError, type ErrorKind } from '../core/errors.js';

const STATUS: Record<ErrorKind, ContentfulStatusCode> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  unavailable: 503,
};

/** The single place an error becomes a response: `{ "error": { "code", "message" } }`. */
export function errorResponse(err: unknown, c: Context) {
  if (err instanceof AirlockError) {
    return c.json({ error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } }, STATUS[err.kind]);
  }
  console.error('airlock: unexpected error while handling', c.req.method, c.req.path, err);
  return c.json({ error: { code: 'internal', message: 'Airlock hit an unexpected error; the server log has the details' } }, 500);
}

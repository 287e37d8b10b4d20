import type { Context } from 'hono';
import type { z } from 'zod';
import { invalid } from '../core/errors.js';

/** Parses and validates a JSON body; a bad one is a 400 that names the field. */
export async function readBody<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  let raw: unknown = {};
  const text = await c.req.text();
  if (text.trim()) {
    try {
      raw = JSON.parse(text);
    } catch {
      throw invalid('invalid_json', 'the request body is not valid JSON');
    }
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length ? issue.path.join('.') : 'body';
    throw invalid('invalid_body', `${field}: ${issue.message}`);
  }
  return parsed.data;
}

/** A `?limit=` value: whole, at least 1, at most `max`; anything else is the default. */
export function limitParam(text: string | undefined, fallback: number, max: number): number {
  const n = Number(text);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, max) : fallback;
}

import { InvalidArgumentError } from 'commander';
import { parseDuration } from '../core/duration.js';
import { AirlockError } from '../core/errors.js';

/**
 * Checks a duration option before any call to the server, so `--for 5x` is
 * a usage error (exit 2) like any other bad argument, naming the forms taken.
 * The text itself is kept: the server parses it again against policy.
 */
export function durationArgument(text: string): string {
  try {
    parseDuration(text);
  } catch (err) {
    if (err instanceof AirlockError) throw new InvalidArgumentError(err.message);
    throw err;
  }
  return text;
}

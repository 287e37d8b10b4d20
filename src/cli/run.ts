import { ApiError, createApiClient, type ApiClient } from '../server/api-client.js';
import { AirlockError } from '../core/errors.js';
import { currentLogin } from './login-store.js';
import { EXIT, printJson } from './output.js';

/**
 * Wraps a command's action: refusals and failures print one clear line on
 * stderr (and a JSON error on stdout with --json) and exit 1; nothing throws
 * a stack trace at a user.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void) {
  return async (...args: A) => {
    const opts = args.find((a) => a !== null && typeof a === 'object' && !Array.isArray(a) && 'json' in (a as object)) as
      | { json?: boolean }
      | undefined;
    try {
      await fn(...args);
    } catch (err) {
      const code = err instanceof ApiError || err instanceof AirlockError ? err.code : 'failed';
      const message = err instanceof Error ? err.message : String(err);
      if (opts?.json) printJson({ error: { code, message } });
      console.error(`airlock: ${message}`);
      if (!(err instanceof ApiError) && !(err instanceof AirlockError) && process.env.AIRLOCK_DEBUG) console.error(err);
      process.exitCode = err instanceof AirlockError && err.kind === 'invalid' && code === 'usage' ? EXIT.usage : EXIT.failed;
    }
  };
}

export function api(): ApiClient {
  const { server, token } = currentLogin();
  return createApiClient(server, token);
}

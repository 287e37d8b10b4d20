import { ApiError, createApiClient, type ApiClient } from '../server/api-client.js';
import { AirlockError } from '../core/errors.js';
import { explainApiError } from './error-hints.js';
import { listenHint } from './listen-hint.js';
import { currentLogin, type LoginSource } from './login-store.js';
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
      const inUse = listenHint(err);
      const code = err instanceof ApiError || err instanceof AirlockError ? err.code : inUse ? 'address_in_use' : 'failed';
      const message = err instanceof ApiError ? explainApiError(err, used) : inUse ?? (err instanceof Error ? err.message : String(err));
      if (opts?.json) printJson({ error: { code, message } });
      console.error(`airlock: ${message}`);
      if (!(err instanceof ApiError) && !(err instanceof AirlockError) && !inUse && process.env.AIRLOCK_DEBUG) console.error(err);
      process.exitCode = err instanceof AirlockError && err.kind === 'invalid' && code === 'usage' ? EXIT.usage : EXIT.failed;
    }
  };
}

/** The login the last API client was made with: errors name where its server and token came from. */
let used: LoginSource | undefined;

export function useLogin(login: LoginSource): void {
  used = login;
}

export function api(): ApiClient {
  const login = currentLogin();
  useLogin(login);
  return createApiClient(login.server, login.token);
}

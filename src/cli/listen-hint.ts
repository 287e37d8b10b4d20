import { AirlockError } from '../core/errors.js';

/** Where a listening address was set: the config key (or flag) a person changes to move it. */
export interface ListenKey {
  readonly listen: string;
  readonly key: string;
}

interface ListenFailure {
  readonly code?: string;
  readonly address?: string;
  readonly port?: number;
}

const portOf = (listen: string) => Number(/:(\d+)$/.exec(listen)?.[1]);

/**
 * `EADDRINUSE` as the next step: the address, and the key that sets it (when
 * the caller says which keys it listened on). Null for any other error.
 */
export function listenHint(err: unknown, keys: readonly ListenKey[] = []): string | null {
  const e = err as ListenFailure | null;
  if (!e || typeof e !== 'object' || (e.code !== 'EADDRINUSE' && e.code !== 'EACCES')) return null;
  if (e.port === undefined) return null;
  const address = `${e.address?.includes(':') ? `[${e.address}]` : (e.address ?? '')}:${e.port}`;
  const key = keys.find((k) => portOf(k.listen) === e.port);
  const why = e.code === 'EADDRINUSE' ? 'is already in use (another airlock server or demo?)' : 'may not be opened by this user (ports below 1024 need privileges)';
  return `cannot listen on ${address}: it ${why}; ${key ? `set ${key.key} to another HOST:PORT` : 'choose another HOST:PORT'}, or stop what holds it`;
}

export function listenError(err: unknown, keys: readonly ListenKey[]): AirlockError | null {
  const message = listenHint(err, keys);
  return message ? new AirlockError('address_in_use', 'unavailable', message) : null;
}

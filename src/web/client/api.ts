import type { Me } from './types.js';

export interface ApiFailure {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

/**
 * The page's HTTP client (browser-side; see dom.ts for why there are no
 * imports). The cookie travels by itself; every change also sends the CSRF
 * value learned from /auth/session.
 */
export function apiModule() {
  let csrf = '';

  function failure(status: number, code: string, message: string): ApiFailure {
    return { status, code, message };
  }

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(path, {
        method,
        credentials: 'same-origin',
        headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(method !== 'GET' ? { 'x-airlock-csrf': csrf } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw failure(0, 'unreachable', 'cannot reach the Airlock server');
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (!res.ok) {
      const err = (parsed as { error?: { code?: string; message?: string } } | null)?.error;
      throw failure(res.status, err?.code ?? 'http_error', err?.message ?? `${method} ${path} failed with HTTP ${res.status}`);
    }
    return parsed as T;
  }

  const q = (params: Record<string, string | undefined>) => {
    const s = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => Boolean(e[1]))).toString();
    return s ? `?${s}` : '';
  };

  return {
    call,
    q,
    isFailure: (e: unknown): e is ApiFailure => typeof e === 'object' && e !== null && 'code' in e && 'status' in e,
    async session(): Promise<Me | null> {
      try {
        const me = await call<Me>('GET', '/auth/session');
        csrf = me.csrf;
        return me;
      } catch (e) {
        if (typeof e === 'object' && e !== null && (e as ApiFailure).status === 401) return null;
        throw e;
      }
    },
    async login(token: string): Promise<Me> {
      const me = await call<Me>('POST', '/auth/login', { token });
      csrf = me.csrf;
      return me;
    },
    logout: () => call<unknown>('POST', '/auth/logout', {}),
  };
}

export type Api = ReturnType<typeof apiModule>;

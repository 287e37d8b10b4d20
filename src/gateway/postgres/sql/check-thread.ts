import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SqlScope } from '../backend.js';
import type { RawCatalog } from './catalog-facts.js';

/**
 * Classification of large statements on a thread of its own. Parsing is
 * linear but not cheap (about 1 s per MB of wide `select` on this machine):
 * eight 4 MB statements in one message once held the event loop for 8.8 s,
 * and every other session and the API with it. The main thread keeps small
 * statements (the hot path, no hop); texts past `OFF_THREAD_MIN_LENGTH` are
 * sent here and the event loop carries on serving everyone else.
 *
 * One thread, answered in order. A statement that takes longer than
 * `timeoutMs` gets the thread terminated (the parse cannot be interrupted
 * otherwise) and is refused; the next request starts a fresh thread.
 */

export interface ThreadDecision {
  readonly allowed: boolean;
  readonly reason?: string;
  readonly tags?: readonly string[];
  readonly classes?: readonly string[];
  readonly sqlstate?: string;
}

export type CheckRequest =
  | {
      readonly type: 'check';
      readonly id: number;
      readonly sql: string;
      readonly scope: SqlScope;
      readonly searchPath: readonly string[];
      readonly user?: string;
      readonly fingerprint: string;
      /** Sent only when the thread said it does not have these facts yet. */
      readonly catalog?: RawCatalog;
    }
  | { readonly type: 'close' };

export type CheckReply =
  | { readonly id: number; readonly decision: ThreadDecision }
  /** The thread does not hold the facts named by the request: send them along. */
  | { readonly id: number; readonly needCatalog: true };

export interface CheckThreadOptions {
  /** How long one statement may take before the thread is discarded and the statement refused. */
  readonly timeoutMs: number;
  /** V8 heap cap for the thread, so a huge tree cannot exhaust the process's memory. */
  readonly maxHeapMb: number;
}

/**
 * The compiled worker script: next to this module in dist/, or taken from
 * the build when this module runs from its TypeScript source (vitest).
 * Null when neither exists: the caller then checks on its own thread.
 */
export function checkWorkerScript(): URL | null {
  const here = new URL('./check-worker.js', import.meta.url);
  if (existsSync(here)) return here;
  const path = fileURLToPath(here);
  const marker = `${sep}src${sep}`;
  const i = path.lastIndexOf(marker);
  if (i < 0) return null;
  const built = pathToFileURL(join(path.slice(0, i), 'dist', path.slice(i + marker.length)));
  return existsSync(built) ? built : null;
}

interface Pending {
  readonly request: CheckRequest & { type: 'check' };
  readonly catalog: () => RawCatalog;
  readonly resolve: (d: ThreadDecision) => void;
  timer?: NodeJS.Timeout;
}

export function createCheckThread(script: URL, opts: CheckThreadOptions) {
  let worker: Worker | null = null;
  let nextId = 1;
  const pending = new Map<number, Pending>();

  function refuseAll(w: Worker, reason: string): void {
    for (const [id, p] of pending) {
      if (p.timer) clearTimeout(p.timer);
      pending.delete(id);
      p.resolve({ allowed: false, reason });
    }
    if (worker === w) worker = null;
  }

  function start(): Worker {
    const w = new Worker(script, { resourceLimits: { maxOldGenerationSizeMb: opts.maxHeapMb } });
    // Never keeps the process alive; a statement waiting on it is refused if it goes.
    w.unref();
    w.on('message', (reply: CheckReply) => {
      const p = pending.get(reply.id);
      if (!p) return;
      if ('needCatalog' in reply) {
        w.postMessage({ ...p.request, catalog: p.catalog() } satisfies CheckRequest);
        return;
      }
      pending.delete(reply.id);
      if (p.timer) clearTimeout(p.timer);
      p.resolve(reply.decision);
    });
    w.on('error', () => refuseAll(w, 'airlock: the statement could not be checked (the checker failed), so it was not run'));
    w.on('exit', () => refuseAll(w, 'airlock: the statement could not be checked (the checker stopped), so it was not run'));
    return w;
  }

  return {
    /** Starts the thread ahead of the first statement, so that one does not pay for loading the parser. */
    warm(): void {
      worker ??= start();
    },
    check(sql: string, scope: SqlScope, searchPath: readonly string[], user: string | undefined, fingerprint: string, catalog: () => RawCatalog): Promise<ThreadDecision> {
      const w = (worker ??= start());
      const id = nextId++;
      const request = { type: 'check', id, sql, scope, searchPath, user, fingerprint } as const;
      return new Promise<ThreadDecision>((resolve) => {
        const p: Pending = { request, catalog, resolve };
        pending.set(id, p);
        // The clock starts when the thread can start on it: statements queued ahead are not this one's fault.
        if (pending.size === 1) arm(w, p);
        w.postMessage(request satisfies CheckRequest);
      }).finally(() => {
        const next = pending.values().next();
        if (next.done !== true && !next.value.timer && worker === w) arm(w, next.value);
      });
    },
    async close(): Promise<void> {
      const w = worker;
      worker = null;
      if (w) await w.terminate();
    },
  };

  function arm(w: Worker, p: Pending): void {
    p.timer = setTimeout(() => {
      const seconds = Math.round(opts.timeoutMs / 1000);
      refuseAll(w, `airlock: the statement took over ${seconds} s to check, so it was not run`);
      void w.terminate();
    }, opts.timeoutMs);
    p.timer.unref();
  }
}

export type CheckThread = ReturnType<typeof createCheckThread>;

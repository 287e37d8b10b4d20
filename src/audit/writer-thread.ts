import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { StoreTarget } from '../store/connection.js';
import type { BatchMarker, SessionCounts } from './statement-batch.js';
import type { StatementFields } from './statement-fields.js';

export type { BatchMarker, SessionCounts };

/** What the writer thread is started with. */
export interface WriterSetup {
  /** The store the thread opens a connection of its own to (a PostgreSQL URL holds its password: never print it). */
  readonly target: StoreTarget;
  readonly busyTimeoutMs: number;
  /** Added to the thread's nice value: how much it yields to the sessions' threads (Linux; 0 = not at all). */
  readonly niceness: number;
}


export type WriterRequest =
  | {
      readonly type: 'write';
      readonly id: number;
      readonly at: string;
      /** The batch's statements (see statement-fields.ts); the thread chains them and counts them per session. */
      readonly fields: StatementFields;
      /** `meta` row written in the batch's transaction, so a retry can tell whether it committed. */
      readonly marker: BatchMarker;
    }
  | { readonly type: 'close' };


export type WriterReply = { readonly id: number; readonly ok: true } | { readonly id: number; readonly ok: false; readonly error: string };

/**
 * The compiled worker script. From dist/ it sits next to this module; when
 * this module runs from its TypeScript source (vitest), the worker is taken
 * from the build (`npm run build`), since a worker thread cannot load .ts.
 * Null when neither exists: the caller then writes on its own thread.
 */
export function writerScript(): URL | null {
  const here = new URL('./writer-worker.js', import.meta.url);
  if (existsSync(here)) return here;
  const path = fileURLToPath(here);
  const marker = `${sep}src${sep}`;
  const i = path.lastIndexOf(marker);
  if (i < 0) return null;
  const built = pathToFileURL(join(path.slice(0, i), 'dist', path.slice(i + marker.length)));
  return existsSync(built) ? built : null;
}

/**
 * A worker thread that writes statement batches into the audit chain with its
 * own store connection, so the commits, fsyncs, canonical JSON and hashing
 * leave the event loop. Started on first use; restarted on the next write
 * after it dies. Batches are answered in the order they were sent.
 */
export function createWriterThread(script: URL, setup: WriterSetup) {
  let worker: Worker | null = null;
  let nextId = 1;
  const pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();

  function failAll(err: Error): void {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  }

  function start(): Worker {
    const w = new Worker(script, { workerData: setup satisfies WriterSetup });
    // The thread never keeps the process alive: owners flush before they exit.
    w.unref();
    w.on('message', (reply: WriterReply) => {
      const p = pending.get(reply.id);
      if (!p) return;
      pending.delete(reply.id);
      if (reply.ok) p.resolve();
      else p.reject(new Error(`the audit writer thread could not write: ${reply.error}`));
    });
    w.on('error', (err) => {
      if (worker === w) worker = null;
      failAll(new Error(`the audit writer thread failed: ${err.message}`, { cause: err }));
    });
    w.on('exit', (code) => {
      if (worker === w) worker = null;
      failAll(new Error(`the audit writer thread exited (code ${code})`));
    });
    return w;
  }

  return {
    /** Resolves once the batch is committed; rejects if it was not (the thread reports why, or died). */
    write(at: Date, fields: StatementFields, marker: BatchMarker): Promise<void> {
      worker ??= start();
      const id = nextId++;
      const w = worker;
      return new Promise<void>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        w.postMessage({ type: 'write', id, at: at.toISOString(), fields, marker } satisfies WriterRequest);
      });
    },
    /** Starts the thread now, so its start-up (loading the store code) is not paid by the first batch. */
    warm(): void {
      worker ??= start();
    },
    /** Stops the thread after the batches already sent; the next write starts a new one. */
    async close(): Promise<void> {
      const w = worker;
      worker = null;
      if (!w) return;
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      w.postMessage({ type: 'close' } satisfies WriterRequest);
      await exited;
    },
    /** Kills the thread at once (tests: what a crash looks like). */
    async terminate(): Promise<void> {
      const w = worker;
      if (w) await w.terminate();
    },
  };
}

export type WriterThread = ReturnType<typeof createWriterThread>;

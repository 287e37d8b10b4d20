import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** What the database thread opens: its data folder, and SQL to run first when the folder is new. */
export interface PgliteSetup {
  readonly dataDir: string;
  readonly seed: readonly string[];
}

export type PgliteRequest = { readonly type: 'exec'; readonly id: number; readonly bytes: ArrayBuffer } | { readonly type: 'close'; readonly id: number };
export type PgliteReply = { readonly id: number; readonly ok: true; readonly bytes?: ArrayBuffer } | { readonly id: number; readonly ok: false; readonly error: string };

/** What the wire server needs of the database: one protocol exchange at a time. */
export interface ProtocolDatabase {
  execProtocolRaw(bytes: Uint8Array): Promise<Uint8Array>;
}

/**
 * The compiled worker. Next to this module in dist/; when vitest runs the
 * TypeScript source, the build's copy (a worker thread cannot load .ts).
 */
function workerScript(): URL {
  const here = new URL('./pglite-worker.js', import.meta.url);
  if (existsSync(here)) return here;
  const path = fileURLToPath(here);
  const i = path.lastIndexOf(`${sep}src${sep}`);
  const built = i < 0 ? null : pathToFileURL(join(path.slice(0, i), 'dist', path.slice(i + 5)));
  if (!built || !existsSync(built)) throw new Error(`the demo database thread ${fileURLToPath(here)} is missing: run npm run build`);
  return built;
}

/**
 * PGlite in a worker thread, so a long statement runs beside the event loop
 * instead of on it: the API answers and revokes cut sessions while the
 * embedded database is busy. Requests are answered in the order sent.
 */
export async function startPgliteThread(setup: PgliteSetup): Promise<ProtocolDatabase & { close(): Promise<void> }> {
  const worker = new Worker(workerScript(), { workerData: setup });
  const waiting = new Map<number, { resolve(bytes: Uint8Array): void; reject(err: Error): void }>();
  let nextId = 0;
  let failure: Error | null = null;
  const failAll = (err: Error) => {
    failure = err;
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  };
  worker.on('message', (reply: PgliteReply) => {
    const w = waiting.get(reply.id);
    waiting.delete(reply.id);
    if (!w) return;
    if (reply.ok) w.resolve(new Uint8Array(reply.bytes ?? new ArrayBuffer(0)));
    else w.reject(new Error(reply.error));
  });
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`the demo database thread stopped (exit ${code})`)));
  const send = (req: { type: 'exec'; bytes: ArrayBuffer } | { type: 'close' }) =>
    new Promise<Uint8Array>((resolve, reject) => {
      if (failure) return reject(failure);
      const id = ++nextId;
      waiting.set(id, { resolve, reject });
      if (req.type === 'exec') worker.postMessage({ ...req, id }, [req.bytes]);
      else worker.postMessage({ ...req, id });
    });
  const db = {
    execProtocolRaw: (bytes: Uint8Array) => send({ type: 'exec', bytes: bytes.slice().buffer }),
    async close() {
      await send({ type: 'close' }).catch(() => undefined);
      await worker.terminate();
    },
  };
  // Opening (and seeding) happens before the first answer: a `SELECT 1` round trip tells the caller it is ready.
  await db.execProtocolRaw(simpleQuery('select 1'));
  return db;
}

/** A simple-protocol Query message. */
export function simpleQuery(sql: string): Uint8Array {
  const body = Buffer.from(`${sql}\0`, 'utf8');
  const out = Buffer.alloc(5 + body.length);
  out.write('Q', 0, 'latin1');
  out.writeInt32BE(body.length + 4, 1);
  body.copy(out, 5);
  return out;
}

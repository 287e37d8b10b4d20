import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import type { PgliteReply, PgliteRequest, PgliteSetup } from './pglite-thread.js';

/**
 * The demo database's own thread: PGlite runs its statements synchronously in
 * WASM, so a `pg_sleep(10)` on the main thread would stop the API and the
 * gateway (a revoke could not cut anything) until it returned.
 */
const setup = workerData as PgliteSetup;
const port = parentPort!;
const ready = (async () => {
  const db = await PGlite.create({ dataDir: setup.dataDir });
  for (const sql of setup.seed) await db.exec(sql);
  return db;
})();

port.on('message', (req: PgliteRequest) => {
  void (async () => {
    try {
      const db = await ready;
      if (req.type === 'close') {
        await db.close();
        port.postMessage({ id: req.id, ok: true } satisfies PgliteReply);
        return;
      }
      const reply = await db.execProtocolRaw(new Uint8Array(req.bytes));
      // A copy that owns its whole buffer, so it can be transferred rather than cloned.
      const out = reply.slice();
      port.postMessage({ id: req.id, ok: true, bytes: out.buffer } satisfies PgliteReply, [out.buffer]);
    } catch (err) {
      port.postMessage({ id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) } satisfies PgliteReply);
    }
  })();
});

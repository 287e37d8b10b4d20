/**
 * The statement audit writer's thread (see writer-thread.ts). It owns a
 * connection of its own to the store (file or PostgreSQL) and writes each batch it is sent in
 * one serialized write transaction (`BEGIN IMMEDIATE`, or the store's advisory lock) with statements prepared once
 * (batch-writer.ts): read the chain head, chain the rows (the same bytes as
 * chain.ts), insert them, store the new head, add the sessions' counts. Lifecycle
 * events are written meanwhile by the main thread's connection in
 * transactions of their own; the write lock and the head read inside it keep
 * the two in one chain.
 */
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { connectStore } from '../store/connection.js';
import { createBatchWriter } from './batch-writer.js';
import type { WriterReply, WriterRequest, WriterSetup } from './writer-thread.js';

const port = parentPort;
if (!port) throw new Error('writer-worker.js runs only as a worker thread');
const setup = workerData as WriterSetup;

// On Linux, priority 0 names the calling thread only. A batch is milliseconds of CPU at
// once; at a lower priority it runs around the sessions' own work instead of ahead of it
// (p99 of a SELECT 1 through the gateway: ~2 ms → ~0.7 ms on two cores). The recorder's
// backlog limit keeps it from falling behind for good when the machine is saturated.
try {
  // Elsewhere, priority 0 names the whole process: leave it alone there.
  if (process.platform === 'linux' && setup.niceness > 0) setPriority(0, Math.min(19, getPriority(0) + setup.niceness));
} catch {
  // Not allowed here (some containers): the thread keeps the process's priority.
}

// One connection: batches are written one after another anyway.
const store = connectStore(setup.target, { busyTimeoutMs: setup.busyTimeoutMs, poolSize: 1 });
const writer = createBatchWriter(store.native);

async function handle(req: Extract<WriterRequest, { type: 'write' }>): Promise<WriterReply> {
  try {
    await writer.write(req.at, req.fields, req.marker);
    return { id: req.id, ok: true };
  } catch (err) {
    return { id: req.id, ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

// Batches are written one after another, in the order they were sent.
let queue: Promise<void> = Promise.resolve();
port.on('message', (req: WriterRequest) => {
  queue = queue.then(async () => {
    if (req.type === 'close') {
      await store.close();
      port.close();
      return;
    }
    port.postMessage(await handle(req));
  });
});

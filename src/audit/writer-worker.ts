/**
 * The statement audit writer's thread (see audit-writer-thread.ts). It owns a
 * better-sqlite3 connection of its own to the store file and writes each batch
 * it is sent in one `BEGIN IMMEDIATE` transaction: read the chain head from
 * `meta`, chain the rows with the same code every other writer uses, insert
 * them, store the new head, add the sessions' counts. Lifecycle events are
 * written meanwhile by the main thread's connection in transactions of their
 * own; the write lock and the head read inside it keep the two in one chain.
 */
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { chainRows, HEAD_KEY } from './chain.js';
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

const db = new SQLite(setup.path, { fileMustExist: true });
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma(`busy_timeout = ${Math.max(0, Math.floor(setup.busyTimeoutMs))}`);

const readHead = db.prepare<[string], { value: string }>('select value from meta where key = ?');
const insertRow = db.prepare(
  'insert into audit_events (seq, at, actor, action, target, subject_user, resource, details, prev_hash, hash) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
);
const writeHead = db.prepare('insert into meta (key, value) values (?, ?) on conflict (key) do update set value = excluded.value');
const addCounts = db.prepare('update sessions set statements = statements + ?, refused = refused + ? where id = ?');

const writeBatch = db.transaction((req: Extract<WriterRequest, { type: 'write' }>) => {
  const { rows, head } = chainRows(readHead.get(HEAD_KEY)?.value, new Date(req.at), req.entries);
  for (const r of rows) insertRow.run(r.seq, r.at, r.actor, r.action, r.target, r.subject_user, r.resource, r.details, r.prev_hash, r.hash);
  writeHead.run(HEAD_KEY, head);
  for (const [id, statements, refused] of req.counts) addCounts.run(statements, refused, id);
  writeHead.run(req.marker[0], String(req.marker[1]));
});

port.on('message', (req: WriterRequest) => {
  if (req.type === 'close') {
    db.close();
    port.close();
    return;
  }
  let reply: WriterReply;
  try {
    // .immediate: BEGIN IMMEDIATE, so the head is read under the write lock.
    writeBatch.immediate(req);
    reply = { id: req.id, ok: true };
  } catch (err) {
    reply = { id: req.id, ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
  port.postMessage(reply);
});

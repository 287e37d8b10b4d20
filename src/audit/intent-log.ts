import { close, closeSync, fdatasync, mkdirSync, openSync, readdirSync, readFileSync, unlink, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';

/**
 * The write-ahead record of statements (and requests) forwarded upstream.
 *
 * An intent is appended with one write(2) before the statement is forwarded,
 * so once the upstream can run it, the record is in the operating system's
 * hands and survives any crash of this process. Its outcome goes to the audit
 * chain later, in the recorder's group commits, naming the intent's id. An
 * fdatasync every `syncIntervalMs` (off the event loop) bounds what a power
 * loss of the Airlock host can take: the intents of that last window.
 *
 * Intents live in segment files named by run and number. A segment whose
 * every intent has its outcome committed is deleted once a newer one takes
 * the appends; whatever is left at start-up belongs to a process that died,
 * and recovery (intent-recovery.ts) closes each intent that has no outcome in
 * the chain as "may or may not have run".
 */

export interface IntentLogOptions {
  /** Directory of the segment files (created if missing). */
  readonly dir: string;
  readonly clock: Clock;
  /**
   * How often written intents are forced to disk (default 25 ms: what a
   * power loss may take). Every 10 ms cost TPC-B through the gateway ~15%
   * (the syncs compete with PostgreSQL's own WAL flushes).
   */
  readonly syncIntervalMs?: number;
  /** A segment takes appends until it holds this many bytes (default 8 MiB) … */
  readonly segmentBytes?: number;
  /** … or is this old (default 60 s). */
  readonly segmentMs?: number;
}

/** One line of a segment. */
export interface IntentLine {
  /** `run.segment.n`: `n` counts the run's intents from 1 with no gap. */
  readonly id: string;
  readonly session: string;
  readonly text?: string | null;
  /** When it was forwarded, in epoch milliseconds. */
  readonly at: number;
}

/** The first line of a segment. */
export interface SegmentHeader {
  readonly run: string;
  readonly segment: number;
  readonly started: string;
}

interface Segment {
  readonly no: number;
  readonly path: string;
  readonly fd: number;
  readonly startedMs: number;
  bytes: number;
  outstanding: number;
  /** No longer takes appends. */
  retired: boolean;
  /** Retired and forced to disk: it may go once nothing in it is outstanding. */
  synced: boolean;
  closed: boolean;
}

const SEGMENT = /^intents-([0-9a-f]+)-(\d+)\.log$/;

export function segmentFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => SEGMENT.test(n))
    .sort((a, b) => {
      const [, ra, sa] = SEGMENT.exec(a)!;
      const [, rb, sb] = SEGMENT.exec(b)!;
      return ra === rb ? Number(sa) - Number(sb) : a < b ? -1 : 1;
    })
    .map((n) => join(dir, n));
}

/** Reads a segment; a torn last line (the process died mid-append) is dropped. */
export function readSegment(path: string): { header: SegmentHeader | null; intents: IntentLine[] } {
  const lines = readFileSync(path, 'utf8').split('\n');
  let header: SegmentHeader | null = null;
  const intents: IntentLine[] = [];
  for (const line of lines) {
    if (!line) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if ('run' in value) header = value as SegmentHeader;
    else if ('id' in value && 'session' in value) intents.push(value as IntentLine);
  }
  return { header, intents };
}

export class IntentLog {
  readonly run = randomBytes(4).toString('hex');
  private n = 0;
  /** Lines queued by `queue`, not yet written, and the number of the first of them. */
  private pending = '';
  private pendingFrom = 0;
  /** Intents written through this number (those before it that are not lost are in the OS's hands). */
  private writtenThrough = 0;
  /** Numbers of queued intents whose write failed, as [from, to] ranges: they must never be forwarded. */
  private lost: [number, number][] = [];
  private current: Segment;
  private readonly segments = new Map<number, Segment>();
  private dirty = false;
  private syncing = false;
  private rotateFailing = false;
  private writeFailing = false;
  /** write(2) calls that carried intents (metrics, tests: the intents of one turn take one). */
  writes = 0;
  private readonly syncTimer: NodeJS.Timeout;
  private readonly segmentBytes: number;
  private readonly segmentMs: number;

  constructor(private readonly opts: IntentLogOptions) {
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    this.segmentBytes = opts.segmentBytes ?? 8 * 1024 * 1024;
    this.segmentMs = opts.segmentMs ?? 60_000;
    this.current = this.open(1);
    this.syncTimer = setInterval(() => this.tend(), opts.syncIntervalMs ?? 25);
    this.syncTimer.unref();
  }

  private open(no: number): Segment {
    const path = join(this.opts.dir, `intents-${this.run}-${no}.log`);
    const fd = openSync(path, 'a', 0o600);
    const now = this.opts.clock.now();
    const header = JSON.stringify({ run: this.run, segment: no, started: now.toISOString() } satisfies SegmentHeader) + '\n';
    try {
      writeSync(fd, header);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    const segment: Segment = { no, path, fd, startedMs: now.getTime(), bytes: header.length, outstanding: 0, retired: false, synced: false, closed: false };
    this.segments.set(no, segment);
    return segment;
  }

  /**
   * Appends an intent and returns its id. Throws when it cannot be written
   * (the statement must then not be forwarded).
   */
  intend(session: string, text: string | undefined): string {
    const id = this.queue(session, text);
    if (!this.written(id)) throw new Error('airlock: the intent could not be written to the intent log');
    return id;
  }

  /**
   * Queues an intent and returns its id, without writing it: the caller must
   * not forward the statement before `written(id)` says so. Intents queued by
   * many sessions in one event-loop turn then reach the OS in one write(2).
   */
  queue(session: string, text: string | undefined): string {
    const seg = this.current;
    const n = ++this.n;
    const id = `${this.run}.${seg.no}.${n}`;
    // Written by hand, not by JSON.stringify of an object: this runs before every statement is forwarded.
    const line = `{"id":"${id}","session":${JSON.stringify(session)},"text":${text === undefined ? 'null' : JSON.stringify(text)},"at":${this.opts.clock.now().getTime()}}\n`;
    if (this.pending === '') this.pendingFrom = n;
    this.pending += line;
    seg.outstanding++;
    return id;
  }

  /**
   * Writes whatever is queued (all sessions' intents, one write) and tells
   * whether the intent `id` is in the OS's hands. False when its write
   * failed: the statement must then not be forwarded. Never throws.
   */
  written(id: string): boolean {
    if (this.pending !== '') this.flush();
    const n = Number(id.slice(id.lastIndexOf('.') + 1));
    if (n > this.writtenThrough) return false;
    for (const [from, to] of this.lost) if (n >= from && n <= to) return false;
    return true;
  }

  private flush(): void {
    const lines = this.pending;
    const from = this.pendingFrom;
    const to = this.n;
    this.pending = '';
    const seg = this.current;
    try {
      // Segments live on local disks, where write(2) to a regular file takes all of it or fails.
      this.writes++;
      seg.bytes += writeSync(seg.fd, lines);
      this.dirty = true;
    } catch (err) {
      const last = this.lost[this.lost.length - 1];
      if (last && last[1] === from - 1) last[1] = to;
      else this.lost.push([from, to]);
      // Bounded: only intents queued in the last turns are still asked about.
      if (this.lost.length > 4096) this.lost.shift();
      if (!this.writeFailing) console.error(`airlock: could not write to the intent log ${seg.path}; the sessions whose statements these were are closed:`, err);
      this.writeFailing = true;
      this.writtenThrough = to;
      return;
    }
    this.writeFailing = false;
    this.writtenThrough = to;
  }

  /** The outcomes of these intents are committed in the chain: their segment may go once it is done with. */
  settled(ids: Iterable<string>): void {
    for (const id of ids) {
      const dot = id.indexOf('.');
      if (dot < 0 || id.slice(0, dot) !== this.run) continue;
      const seg = this.segments.get(Number(id.slice(dot + 1, id.indexOf('.', dot + 1))));
      if (!seg) continue;
      seg.outstanding--;
      this.collect(seg);
    }
  }

  /** Intents written and not yet settled (metrics, tests). */
  outstanding(): number {
    let n = 0;
    for (const s of this.segments.values()) n += s.outstanding;
    return n;
  }

  /** Run from the sync timer, never inside `intend`: nothing here may stall a statement. */
  private rotate(): void {
    const old = this.current;
    this.current = this.open(old.no + 1);
    old.retired = true;
    // Its unsynced tail must reach the disk too: the timer only syncs the segment taking appends.
    fdatasync(old.fd, (err) => {
      if (err) console.error(`airlock: could not force the intent segment ${old.path} to disk:`, err);
      old.synced = true;
      this.collect(old);
    });
  }

  /**
   * A new segment that cannot be started (folder gone, disk full, out of file
   * descriptors) must not end the process from the timer: appends go on in the
   * current segment, which still works, and the next tick tries again. Said
   * once per streak, not every tick.
   */
  private tryRotate(): void {
    try {
      this.rotate();
      if (this.rotateFailing) console.error(`airlock: intent segments rotate again in ${this.opts.dir}`);
      this.rotateFailing = false;
    } catch (err) {
      if (!this.rotateFailing) {
        console.error(`airlock: could not start a new intent segment in ${this.opts.dir}; intents stay in ${this.current.path} and a new segment is tried every tick:`, err);
      }
      this.rotateFailing = true;
    }
  }

  private collect(seg: Segment): void {
    if (!seg.synced || seg.outstanding > 0 || seg.closed) return;
    seg.closed = true;
    this.segments.delete(seg.no);
    close(seg.fd, () =>
      unlink(seg.path, (err) => {
        if (err) console.error(`airlock: could not remove the settled intent segment ${seg.path}:`, err);
      }),
    );
  }

  /**
   * Runs every `syncIntervalMs`: starts a new segment when the current one is
   * full or old enough, and forces written intents to disk (off the event loop).
   */
  tend(): void {
    // Queued lines go to the segment their ids name, before it can be retired.
    if (this.pending !== '') this.flush();
    const seg = this.current;
    if (seg.bytes >= this.segmentBytes || this.opts.clock.now().getTime() - seg.startedMs >= this.segmentMs) this.tryRotate();
    if (!this.dirty || this.syncing) return;
    this.dirty = false;
    this.syncing = true;
    const fd = this.current.fd;
    fdatasync(fd, (err) => {
      this.syncing = false;
      if (err && !this.current.closed) console.error('airlock: could not force the intent log to disk:', err);
    });
  }

  /** Stops syncing and closes the files; what is still outstanding stays on disk for recovery. */
  close(): void {
    clearInterval(this.syncTimer);
    for (const seg of this.segments.values()) {
      if (seg.closed) continue;
      seg.closed = true;
      try {
        closeSync(seg.fd);
      } catch {
        // already closed
      }
      if (seg.outstanding === 0) {
        try {
          unlinkSync(seg.path);
        } catch {
          // gone already
        }
      }
    }
    this.segments.clear();
  }
}

/**
 * What the upstream holds under each prepared-statement (or portal) name, as
 * far as it has confirmed it.
 *
 * The gateway used to record a Parse's text under its name as soon as the
 * Parse was forwarded. But the upstream may refuse it — a named statement
 * that already exists keeps its old text — and the audit then named a text
 * that never ran: `Parse("h", A)`, `Sync`, `Parse("h", B)` (refused),
 * `Bind("", "h")`, `Execute` ran A and was recorded as B. Now a name changes
 * only when the upstream confirms (ParseComplete, BindComplete,
 * CloseComplete), and a message that needs a name whose change is still
 * unanswered from an earlier batch waits for the answer.
 *
 * Within one batch (up to Sync) no waiting is needed: after an error the
 * upstream skips everything up to Sync, so a later message of the batch
 * runs only if every change before it in the batch succeeded.
 *
 * Some changes are not seen name by name: SQL (`DEALLOCATE`, `DECLARE`,
 * `CLOSE`, `DISCARD ALL`) and, for portals, the end of a transaction. While
 * one is unanswered, names from earlier batches wait; in the same batch
 * they are refused, since the answer cannot come before the batch's Sync.
 */

/** What became of a forwarded message: done, refused by the upstream, or never run (skipped after an earlier error). */
export type ChangeOutcome = 'ok' | 'error' | 'skipped';

export type NameLookup =
  | { readonly known: true; readonly text: string }
  /** `unseen`: an earlier message of this batch may have changed the name in a way the gateway cannot follow. */
  | { readonly known: false; readonly unseen?: boolean }
  /** A change from an earlier batch is not answered yet: look again once this resolves. */
  | { readonly unsettled: Promise<void> };

const UNKNOWN: NameLookup = { known: false };
const UNSEEN: NameLookup = { known: false, unseen: true };

export class PreparedNames {
  /** Confirmed by the upstream. */
  private readonly confirmed = new Map<string, string>();
  /** Changes forwarded in the open batch; null: closed in this batch. */
  private readonly batch = new Map<string, string | null>();
  private batchUnseen = false;
  /** Changes forwarded and not yet answered, per name, and those that may touch any name. */
  private readonly inFlight = new Map<string, number>();
  private unseenInFlight = 0;
  private waiters: { readonly name: string; readonly resolve: () => void }[] = [];

  /** The text a message sent now would find under `name`. */
  lookup(name: string): NameLookup {
    const inBatch = this.batch.get(name);
    if (inBatch !== undefined) return inBatch === null ? UNKNOWN : { known: true, text: inBatch };
    if (this.batchUnseen) return UNSEEN;
    if (!this.settled(name)) return { unsettled: new Promise<void>((resolve) => this.waiters.push({ name, resolve })) };
    const text = this.confirmed.get(name);
    return text === undefined ? UNKNOWN : { known: true, text };
  }

  /**
   * A change was forwarded: `text` is what the name will hold (null: it is
   * closed). Returns what to call with the upstream's answer.
   *
   * PostgreSQL drops the unnamed statement or portal before it parses or
   * binds the new one, so an unnamed change that fails leaves nothing under
   * the name; a named one that fails (the name exists) leaves the old text.
   */
  sent(name: string, text: string | null): (outcome: ChangeOutcome) => void {
    this.batch.set(name, text);
    this.inFlight.set(name, (this.inFlight.get(name) ?? 0) + 1);
    // One function per change, with its own once-guard (not a wrapper around another): Bind and Parse make one each.
    let done = false;
    return (outcome) => {
      if (done) return;
      done = true;
      if (outcome === 'ok') {
        if (text === null) this.confirmed.delete(name);
        else this.confirmed.set(name, text);
      } else if (outcome === 'error' && name === '') {
        this.confirmed.delete(name);
      }
      const left = (this.inFlight.get(name) ?? 1) - 1;
      if (left > 0) this.inFlight.set(name, left);
      else this.inFlight.delete(name);
      this.wake();
    };
  }

  /**
   * As `sent('', null)` (a simple Query drops the unnamed statement or
   * portal), without making a function per Query: the caller calls
   * `unnamedClosed` once with the upstream's answer.
   */
  sentUnnamedClose(): void {
    this.batch.set('', null);
    this.inFlight.set('', (this.inFlight.get('') ?? 0) + 1);
  }

  unnamedClosed(outcome: ChangeOutcome): void {
    if (outcome !== 'skipped') this.confirmed.delete('');
    const left = (this.inFlight.get('') ?? 1) - 1;
    if (left > 0) this.inFlight.set('', left);
    else this.inFlight.delete('');
    this.wake();
  }

  /** As `sentUnseen(false)`, without making a function: the caller calls `unseenSettled` once with the answer. */
  sentUnseenCounted(): void {
    this.unseenInFlight++;
  }

  unseenSettled(): void {
    this.unseenInFlight--;
    this.wake();
  }

  /**
   * Something that may change names unseen was forwarded (`inBatch`: as part
   * of the open batch). The caller forgets what it changed (`remove`,
   * `forgetAll`) before calling the returned function.
   */
  sentUnseen(inBatch: boolean): (outcome: ChangeOutcome) => void {
    if (inBatch) this.batchUnseen = true;
    this.unseenInFlight++;
    return once(() => {
      this.unseenInFlight--;
      this.wake();
    });
  }

  /** Sync forwarded: the next batch runs whatever the previous one's outcome. */
  endBatch(): void {
    this.batch.clear();
    this.batchUnseen = false;
  }

  /** A name the upstream confirmed defining, outside the protocol's own messages (a SQL PREPARE that succeeded). */
  learn(name: string, text: string): void {
    this.confirmed.set(name, text);
  }

  /** Forgets a name: a later message that uses it is refused, unless a change still in flight sets it again. */
  remove(name: string): void {
    this.confirmed.delete(name);
    this.batch.delete(name);
  }

  /** Every name is gone (DISCARD ALL, DEALLOCATE ALL; for portals the end of a transaction). */
  forgetAll(): void {
    this.confirmed.clear();
  }

  private settled(name: string): boolean {
    return this.unseenInFlight === 0 && !this.inFlight.has(name);
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) {
      if (this.settled(w.name)) w.resolve();
      else this.waiters.push(w);
    }
  }
}

function once(fn: (outcome: ChangeOutcome) => void): (outcome: ChangeOutcome) => void {
  let done = false;
  return (outcome) => {
    if (done) return;
    done = true;
    fn(outcome);
  };
}

import { PreparedNames, type ChangeOutcome } from './prepared-names.js';
import { TxStatus } from './protocol/codes.js';
import type { Settle } from './response-tracker.js';
import { executedNames, mayAffectNames, nameEffects } from './sql/name-effects.js';

/**
 * The statement and portal names one session holds upstream, with the text
 * each runs (only texts that passed the check), and what every forwarded
 * message does to them once the upstream has answered it (prepared-names.ts
 * says why a name changes only then). The relay says what it forwarded; this
 * gives it what to settle with the answer.
 */
export class SessionNames {
  readonly statements = new PreparedNames();
  readonly portals = new PreparedNames();

  /**
   * What a simple Query that changes no names settles, made once: most
   * statements are such Queries, and a function per Query was garbage.
   */
  private readonly plainQuerySettled: Settle = (outcome) => {
    if (outcome !== 'skipped' && this.tx.txStatus === TxStatus.Idle) this.portals.forgetAll();
    // A Query drops the unnamed statement and portal whether or not it succeeds.
    const o = outcome === 'skipped' ? 'skipped' : 'ok';
    this.statements.unnamedClosed(o);
    this.portals.unnamedClosed(o);
    this.portals.unseenSettled();
  };

  /** What every Sync settles once its ReadyForQuery is in, made once (a Sync ends every extended-protocol statement). */
  private readonly syncSettled: Settle = () => {
    if (this.tx.txStatus === TxStatus.Idle) this.portals.forgetAll();
    this.portals.unseenSettled();
  };

  /** `tx`: the session's transaction status as of the upstream's last ReadyForQuery (the response tracker). */
  constructor(private readonly tx: { readonly txStatus: number }) {}

  /** A Sync was sent on (or answered by the gateway): the next batch runs whatever the previous one's outcome. */
  endBatch(): void {
    this.statements.endBatch();
    this.portals.endBatch();
  }

  /** A Sync forwarded: the transaction may end there, and its portals with it. */
  syncSent(): Settle {
    this.portals.sentUnseenCounted();
    return this.syncSettled;
  }

  /**
   * A Query or Execute forwarded: what its text may do to statement and
   * portal names, applied once the upstream has answered it. A simple Query
   * also drops the unnamed statement and portal, and may end a transaction.
   */
  textSent(text: string, simpleQuery: boolean): Settle | undefined {
    const affects = mayAffectNames(text);
    if (!affects && !simpleQuery) return undefined;
    if (!affects) {
      this.statements.sentUnnamedClose();
      this.portals.sentUnnamedClose();
      this.portals.sentUnseenCounted();
      return this.plainQuerySettled;
    }
    const settles: Settle[] = [];
    if (simpleQuery) settles.push(this.statements.sent('', null), this.portals.sent('', null), this.portals.sentUnseen(false));
    // A Query is answered on its own (ReadyForQuery flushes it): later messages can wait for it. An Execute's
    // answer may not come before the batch's Sync, so the rest of its batch cannot wait: names are refused there.
    if (affects) settles.push(this.statements.sentUnseen(!simpleQuery), this.portals.sentUnseen(!simpleQuery));
    return (outcome: ChangeOutcome) => {
      if (outcome !== 'skipped') {
        const effects = affects ? nameEffects(text) : undefined;
        if (effects) this.forget(effects);
        // A SQL PREPARE that succeeded, in a text the policy allowed: EXECUTE may run it. Not after an error (a
        // multi-statement text may have failed after or before it) and not from Execute (fail closed).
        if (effects && simpleQuery && outcome === 'ok') for (const name of effects.prepared) this.statements.learn(name, text);
        if (simpleQuery && this.tx.txStatus === TxStatus.Idle) this.portals.forgetAll();
      }
      // A Query drops the unnamed statement and portal whether or not it succeeds.
      for (const settle of settles) settle(outcome === 'skipped' ? 'skipped' : simpleQuery ? 'ok' : outcome);
    };
  }

  /**
   * Why a text's SQL EXECUTE may not run: each name must hold a statement
   * this session prepared through the gateway with text the policy allowed
   * (not one prepared by an earlier session on the same upstream connection,
   * by a statement the gateway could not follow, or since forgotten by
   * DEALLOCATE or DISCARD). A promise while an earlier change is unanswered.
   */
  unpreparedExecute(text: string): string | Promise<void> | undefined {
    const names = executedNames(text);
    if (names === null) return 'airlock: the gateway could not tell which prepared statements this text executes';
    for (const name of names) {
      const found = this.statements.lookup(name);
      if ('unsettled' in found) return found.unsettled;
      if (!found.known) return `airlock: prepared statement "${name}" was not prepared through the gateway in this session; PREPARE it again`;
    }
    return undefined;
  }

  private forget(effects: ReturnType<typeof nameEffects>): void {
    if (effects.statements === 'all') this.statements.forgetAll();
    else for (const name of effects.statements) this.statements.remove(name);
    if (effects.portals === 'all') this.portals.forgetAll();
    else for (const name of effects.portals) this.portals.remove(name);
  }
}

/** Why a Bind or Execute that names a statement or portal the gateway does not know is refused. */
export function unknownName(what: string, name: string, unseen: boolean | undefined): string {
  if (unseen) {
    return `airlock: ${what} "${name}" may have been changed by an earlier statement in this batch (DEALLOCATE, DECLARE, CLOSE or DISCARD); send Sync before using it`;
  }
  return `airlock: ${what} "${name}" was not allowed through the gateway`;
}

/**
 * Work put off to the end of the current event-loop turn: after every I/O
 * callback of this turn has run (setImmediate's check phase), before the
 * loop waits for more. The Postgres relay forwards statements here, so the
 * write-ahead intents of all sessions handled in one turn go to the OS in
 * one write(2) before any of those statements is forwarded.
 */

export interface TurnEnd {
  turnEnded(): void;
}

const due: TurnEnd[] = [];
let scheduled = false;

/** Runs `work.turnEnded()` once at the end of this turn (the caller asks once per turn). */
export function atTurnEnd(work: TurnEnd): void {
  due.push(work);
  if (scheduled) return;
  scheduled = true;
  setImmediate(runDue);
}

function runDue(): void {
  // Work that asks again while this runs is run in this pass too.
  for (let i = 0; i < due.length; i++) {
    try {
      due[i]!.turnEnded();
    } catch (err) {
      // One session's failure must not keep the others' statements from going out.
      console.error('airlock: end-of-turn work failed:', err);
    }
  }
  due.length = 0;
  scheduled = false;
}

import type { StatementClass } from './scope.js';
import { StatementWalker } from './walk.js';

/**
 * What one statement needs from the role, collected while it is judged:
 * statement classes (each with the words the refusal names), refusals that
 * hold for every role, and "opaque" needs: things whose effect the gateway
 * cannot see (a stored routine, a statement built from a string), allowed
 * only to an admin role without table restrictions.
 */
export class Needs {
  readonly classes = new Map<StatementClass, string>();
  readonly walker = new StatementWalker();
  /** Refused whatever the role: the words for the message. */
  refused: string | undefined;
  opaque: string | undefined;
  /** A USE / COM_INIT_DB to this database (checked against the session's). */
  usesDatabase: string | undefined;
  /** `SET NAMES x` that the session's text decoding must follow once it succeeds. */
  charset: string | undefined;

  constructor(public tag: string) {}

  need(cls: StatementClass, what: string): void {
    if (!this.classes.has(cls)) this.classes.set(cls, what);
  }

  refuse(what: string): void {
    this.refused ??= what;
  }

  needOpaque(what: string): void {
    this.opaque ??= what;
    this.need('admin', what);
  }
}

/**
 * What the audit keeps of one HTTP request: plain records the kernel writes.
 * A forwarded request is recorded twice: its intent before a byte reaches the
 * upstream, its outcome after. A refused request is recorded once, as an
 * outcome with `refused` set. No header, cookie or credential is ever in here.
 */

export interface HttpRequestIntent {
  /** Order of the request within its session, from 1. */
  readonly seq: number;
  readonly method: string;
  /** The canonical decoded path (request-target.ts), or the raw target when it could not be read. */
  readonly path: string;
  /** The query with values redacted per the role (query-redaction.ts); null when there was none. */
  readonly query: string | null;
  readonly websocket: boolean;
  /** The rule that allowed it. */
  readonly rule: string | null;
  readonly startedAt: Date;
}

export interface HttpRequestOutcome extends HttpRequestIntent {
  /** The status the client saw; null when the exchange ended before a status was sent (client gone, cut). */
  readonly status: number | null;
  readonly refused: boolean;
  /** The refusal's code (http_not_allowed, …) when refused. */
  readonly refusal: string | null;
  readonly requestBytes: number;
  readonly responseBytes: number;
  readonly durationMs: number;
  /** Why it ended early, if it did: "cut", "client_closed", "upstream_error". */
  readonly ended: 'complete' | 'cut' | 'client_closed' | 'upstream_error';
  /** The first bytes of the request body when the role records bodies (UTF-8, lossy). */
  readonly body?: { readonly text: string; readonly bytes: number; readonly truncated: boolean };
}

/** Where one session's requests are recorded (the kernel's session in `airlock server`). */
export interface HttpRequestLog {
  /**
   * A request about to be forwarded. The gateway waits for the promise: the
   * request goes upstream only once its record cannot be lost; a rejection
   * refuses it (fail closed, 503). The answer is handed back with the outcome.
   */
  intent(intent: HttpRequestIntent): Promise<unknown>;
  /** After the exchange (with what intent() answered), or instead of it for a refused request (null). */
  outcome(outcome: HttpRequestOutcome, intent: unknown): void;
}

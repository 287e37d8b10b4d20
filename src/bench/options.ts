/** What a bench run measures and how hard: `--quick` for a run under two minutes, `--smoke` for the test suite. */

export interface BenchOptions {
  readonly mode: 'full' | 'quick' | 'smoke';
  /** Interleaved rounds per comparison (direct, airlock, pgbouncer, relay, direct, …). */
  readonly rounds: number;
  /** Interleaved rounds for the intent on/off comparison: its ratios sit near 1, so it takes more rounds than the others (`--rounds` sets both). */
  readonly intentRounds: number;
  /** Seconds per pgbench run. */
  readonly seconds: number;
  /**
   * Smoke mode: each pgbench client runs this many transactions (`-t`) instead of for `seconds` (`-T`, whole seconds only).
   * A run then takes a fraction of a second, and a slow sign-in on a loaded machine delays it instead of leaving it empty.
   */
  readonly transactions?: number;
  /** Seconds per pgbench run of the intent comparison: at least long enough that 8 clients' SCRAM sign-ins on a loaded machine do not eat a whole run (`--seconds` sets both). */
  readonly intentSeconds: number;
  readonly clients: readonly number[];
  readonly latencySamples: number;
  readonly connectSamples: number;
  readonly cutSessions: number;
  /** Grant length for the expiry test; sessions are opened well before it ends. */
  readonly expirySeconds: number;
  readonly scaleSessions: readonly number[];
  /** Folder for latest.json and the chart. */
  readonly outDir: string;
  /** Pins pgbench to CPU 0 and the proxies (gateway, PgBouncer, byte relay) to CPU 1 (PostgreSQL floats), when taskset exists. */
  readonly pin: boolean;
  /** Writes a V8 CPU profile of the gateway process into this folder. */
  readonly cpuProfDir?: string;
  /** Runs only these suites (throughput, cost, latency, connect, cut, scale, audit, intents, http, mysql, fleet, nodes). */
  readonly only?: ReadonlySet<string>;
}

const PRESETS = {
  full: { rounds: 3, intentRounds: 5, seconds: 5, intentSeconds: 5, clients: [1, 8, 32], latencySamples: 20_000, connectSamples: 60, cutSessions: 100, expirySeconds: 6, scaleSessions: [1000, 2000] },
  // quick keeps every comparison but fewer samples, and stops the scale test at 1,000 sessions, to stay under two minutes.
  // Two scale steps in every mode: memory per session is read as the slope between them.
  quick: { rounds: 2, intentRounds: 3, seconds: 1, intentSeconds: 2, clients: [1, 8, 32], latencySamples: 2_000, connectSamples: 10, cutSessions: 100, expirySeconds: 3, scaleSessions: [500, 1000] },
  smoke: { rounds: 1, intentRounds: 1, seconds: 1, intentSeconds: 2, transactions: 50, clients: [2], latencySamples: 200, connectSamples: 3, cutSessions: 5, expirySeconds: 3, scaleSessions: [10, 20] },
} as const;

export function parseOptions(argv: readonly string[], defaultOutDir: string): BenchOptions {
  const flag = (name: string) => argv.includes(`--${name}`);
  const value = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const mode = flag('smoke') ? 'smoke' : flag('quick') ? 'quick' : 'full';
  const preset = PRESETS[mode];
  const only = value('only');
  const rounds = value('rounds');
  const seconds = value('seconds');
  const clients = value('clients');
  return {
    mode,
    ...preset,
    rounds: rounds ? Number(rounds) : preset.rounds,
    intentRounds: rounds ? Number(rounds) : preset.intentRounds,
    seconds: seconds ? Number(seconds) : preset.seconds,
    intentSeconds: seconds ? Number(seconds) : preset.intentSeconds,
    // `--seconds` asks for timed runs, in every mode.
    transactions: seconds || !('transactions' in preset) ? undefined : preset.transactions,
    clients: clients ? clients.split(',').map(Number) : preset.clients,
    outDir: value('out') ?? defaultOutDir,
    pin: flag('pin'),
    cpuProfDir: value('cpu-prof'),
    only: only ? new Set(only.split(',')) : undefined,
  };
}

export const USAGE = `usage: npm run bench -- [--quick | --smoke] [--rounds N] [--seconds S] [--clients 1,8,32] [--only throughput,cost,latency,connect,cut,scale,audit,intents,http,mysql,fleet,nodes] [--pin] [--cpu-prof DIR] [--out DIR]`;

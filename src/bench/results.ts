import type { HttpBenchResult } from './suites/http-gateway.js';
import type { FleetCutResult } from './suites/fleet-cut.js';
import type { Summary } from './stats.js';

/** The shape of bench/results/latest.json. Ratios are path ÷ direct, per interleaved round, then summarized. */

/** `relay` is a bare Node.js TCP byte relay (byte-relay.ts): the floor any Node proxy sets, for reading Airlock's ratio against. */
export type PathName = 'direct' | 'airlock' | 'pgbouncer' | 'relay';

export interface ThroughputResult {
  readonly name: string;
  readonly script: 'select-only' | 'tpcb';
  readonly protocol: 'simple' | 'extended' | 'prepared';
  readonly clients: number;
  readonly tps: Partial<Record<PathName, Summary>>;
  readonly ratio: Partial<Record<Exclude<PathName, 'direct'>, Summary>>;
  /** CPU microseconds (user + system, all threads) the proxy process spent per statement, per round, summarized. */
  readonly cpuUsPerStatement?: Partial<Record<Exclude<PathName, 'direct'>, Summary>>;
}

/** CPU per statement of each proxy at one fixed rate (suites/cost.ts). Keys: airlock, `airlock (audit off)`, pgbouncer, relay. */
export interface CostResult {
  /** Transactions (= statements, select-only) per second every path was held to. */
  readonly rate: number;
  readonly clients: number;
  readonly rows: readonly {
    readonly name: string;
    readonly protocol: 'simple' | 'extended' | 'prepared';
    readonly cpuUs: Readonly<Record<string, Summary>>;
    /** The rate each path actually held (a path that could not keep up shows it here). */
    readonly tps: Readonly<Record<string, Summary>>;
  }[];
}

export interface Quantiles {
  readonly p50: number;
  readonly p99: number;
  readonly n: number;
}

export interface LatencyResult {
  /** Microseconds per `SELECT 1` round trip, as the client sees it. */
  readonly us: Partial<Record<PathName, Quantiles>>;
  readonly addedUs: Partial<Record<Exclude<PathName, 'direct'>, { readonly p50: number; readonly p99: number }>>;
}

export interface ConnectResult {
  /** Milliseconds for connect + authenticate + first query. */
  readonly ms: Partial<Record<PathName, Quantiles>>;
}

export interface CutResult {
  readonly sessions: number;
  /** Sessions whose client saw the connection end within the wait. */
  readonly cut: number;
  /** Milliseconds from the revocation (or expires_at) to the client seeing its connection end. */
  readonly ms: Quantiles & { readonly max: number };
}

export interface ScaleStep {
  readonly sessions: number;
  readonly opened: number;
  readonly rssBytes: number;
  readonly heapBytes: number;
  /**
   * RSS growth per session since the step before (the first step: since the
   * baseline). The slope between two loaded steps does not depend on how much
   * freed memory the process had kept from earlier suites, which the baseline does.
   */
  readonly perSessionBytes: number;
}

export interface ScaleResult {
  readonly upstream: string;
  readonly baselineRssBytes: number;
  readonly steps: readonly ScaleStep[];
  /** At the largest step: sessions that answered a `SELECT 1`. */
  readonly answered: number;
}

export interface AuditCostResult {
  readonly clients: number;
  readonly protocol: 'simple' | 'prepared';
  readonly tps: { readonly on: Summary; readonly off: Summary };
  /** on ÷ off. */
  readonly ratio: Summary;
}

export interface IntentWorkloadResult {
  readonly name: string;
  readonly script: 'select-only' | 'tpcb';
  readonly protocol: 'simple' | 'extended' | 'prepared';
  readonly clients: number;
  readonly tps: { readonly on: Summary; readonly off: Summary };
  /** intents on ÷ off, per interleaved round. */
  readonly ratio: Summary;
}

export interface IntentCostResult {
  /** Both gateways record every statement in the audit chain; `on` also appends each one's intent before forwarding it. */
  readonly workloads: IntentWorkloadResult[];
  /** One client, one `SELECT 1` at a time, alternating blocks between the two gateways. */
  readonly latency: {
    readonly us: { readonly on: Quantiles; readonly off: Quantiles };
    /** on − off over all samples. */
    readonly addedUs: { readonly p50: number; readonly p99: number };
    /** on − off of the p50s of each pair of blocks: how much the added p50 moves from block to block. */
    readonly addedP50PerBlock: Summary;
  };
}

export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | null;
}

export interface BenchResults {
  readonly meta: {
    readonly date: string;
    readonly mode: string;
    readonly rounds: number;
    /** Rounds of the intent on/off comparison. */
    readonly intentRounds: number;
    readonly intentSecondsPerRun: number;
    readonly secondsPerRun: number;
    readonly node: string;
    readonly pgbench: string;
    readonly cpus: number;
    readonly cpuModel: string;
    readonly notes: readonly string[];
  };
  throughput: ThroughputResult[];
  /** CPU per statement at one fixed rate (issue 15). */
  cost?: CostResult;
  latency?: LatencyResult;
  connect?: ConnectResult;
  revoke?: CutResult;
  expiry?: CutResult;
  scale?: ScaleResult;
  /** Revoke on one node → cut on the others (issue 12). */
  fleet?: FleetCutResult;
  audit: AuditCostResult[];
  intents?: IntentCostResult;
  /** The HTTP gateway against a bare Node proxy (issue 11). */
  http?: HttpBenchResult;
  targets: TargetCheck[];
}

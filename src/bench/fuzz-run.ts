import { pathToFileURL } from 'node:url';

/**
 * What the protocol fuzzers share: a seeded generator, random bytes, a guard
 * that tells the protocol's own typed errors (expected) from anything else (a
 * bug), quiet stacks, and the command line for the long runs. Each fuzzer
 * keeps its own seeds and mutations, which are about its protocol.
 */

/** xorshift32: reproducible from the seed, no dependency. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

export function randomBytes(next: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = next() & 0xff;
  return b;
}

/** Counts the protocol's own errors; keeps the first few of anything else, with the input that caused it. */
export class FuzzGuard {
  violations = 0;
  readonly unexpected: string[] = [];

  constructor(
    private readonly expected: (err: unknown) => boolean,
    private readonly hexChars: number,
  ) {}

  run(what: string, input: Buffer, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (this.expected(err)) this.violations++;
      else if (this.unexpected.length < 10) this.unexpected.push(`${what}: ${String(err)} on ${input.toString('hex').slice(0, this.hexChars)}`);
    }
  }
}

/** Runs `fn` without capturing stacks: most inputs end in a thrown protocol error, and a stack for each would be most of the run time. */
export function withoutStacks<T>(fn: () => T): T {
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return fn();
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

/** When `moduleUrl` is the script run: `node dist/bench/X.js [inputs] [seed]`, JSON result on stdout, exit 1 on anything unexpected. */
export function runFuzzCommand(moduleUrl: string, fuzz: (opts: { inputs: number; seed: number }) => { readonly unexpected: readonly string[] }): void {
  if (moduleUrl !== pathToFileURL(process.argv[1] ?? '').href) return;
  const inputs = Number(process.argv[2] ?? 1_000_000);
  const started = process.hrtime.bigint();
  const result = fuzz({ inputs, seed: Number(process.argv[3] ?? Date.now() & 0xffffffff) });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  process.stdout.write(`${JSON.stringify({ ...result, seconds: Math.round(seconds * 10) / 10 })}\n`);
  process.exitCode = result.unexpected.length === 0 ? 0 : 1;
}

import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest, longest first (measured on the 2-core VM, alone
 * and four at a time; see the commit that last changed this list). Several
 * files run at once, so the suite lasts at least as long as its longest file:
 * started late, one of these would run alone at the end. A clean clone (CI)
 * has no vitest timing cache, and vitest's order there is by file size, which
 * puts them anywhere. The list only orders: a file missing from it still runs.
 */
const SLOWEST = [
  'test/bench/harness-smoke.test.ts',
  'test/cli/cli.test.ts',
  'test/fleet/fleet.test.ts',
  'test/web/dashboard-audit.test.ts',
  'test/web/oidc-sign-in.test.ts',
  'test/cli/login.test.ts',
  'test/server/gateway-end-to-end.test.ts',
  'test/demo/demo.test.ts',
  'test/demo/demo-busy.test.ts',
  'test/web/dashboard.test.ts',
  'test/gateway/mysql/bench-smoke.test.ts',
  'test/cli/durability.test.ts',
  'test/cli/grant-secrets.test.ts',
  'test/audit/many-writers.test.ts',
  'test/core/lifecycle.test.ts',
  'test/audit/statement-recorder.test.ts',
  'test/security/gateway-auth.test.ts',
  'test/cli/output.test.ts',
  'test/cli/errors.test.ts',
  'test/gateway/crash-audit.test.ts',
];

function rank(spec: TestSpecification): number {
  const i = SLOWEST.findIndex((path) => spec.moduleId.endsWith(`/${path}`));
  return i < 0 ? SLOWEST.length : i;
}

/** vitest's own order (failed first, then by the cached durations, else by size), with the known slowest files moved to the front. */
export class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    return sorted
      .map((spec, i) => ({ spec, i, rank: rank(spec) }))
      .sort((a, b) => a.rank - b.rank || a.i - b.i)
      .map((x) => x.spec);
  }
}

import type { Command } from 'commander';
import type { ResourceCheck } from '../../server/routes/resource-check.js';
import { printJson, printTable } from '../output.js';
import { action, api } from '../run.js';

const RESULT_WORD = { ok: 'OK', failed: 'FAILED', unchecked: 'not checked' } as const;

function printChecks(checks: readonly ResourceCheck[]): void {
  printTable(
    ['resource', 'kind', 'role', 'login', 'result', 'upstream said'],
    checks.flatMap((c) => c.roles.map((r) => [c.resource, c.kind, r.role, r.login ?? '-', RESULT_WORD[r.result], r.message ?? ''])),
    'no resources to check',
  );
}

const check = action(async (resource: string | undefined, opts: { json?: boolean }) => {
  const { resources: checks } = await api().checkResources(resource);
  if (opts.json) printJson(checks);
  else printChecks(checks);
  // A login that fails now fails for the next engineer on call: scripts see it in the exit code.
  if (checks.some((c) => c.roles.some((r) => r.result === 'failed'))) process.exitCode = 1;
});

export function resourceCommands(program: Command): void {
  const resources = program
    .command('resources')
    .description('what you may request: resource, role, approval needed, max duration')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const rows = await api().resources();
        if (opts.json) return printJson(rows);
        printTable(
          ['resource', 'kind', 'role', 'allows', 'approval', 'max', 'requires'],
          rows.map((r) => [
            r.resource,
            r.kind,
            r.role,
            r.allow.join(',') || '-',
            r.approval,
            r.max_duration,
            [r.requires.reason ? 'reason' : '', r.requires.ticket ? `ticket ${r.requires.ticket}` : ''].filter(Boolean).join(', ') || '-',
          ]),
          'no policy lets you request anything yet; ask an Airlock admin',
        );
      }),
    );

  resources
    .command('check')
    .description("admins: log in upstream with each role's credential and report, per role, OK or the upstream's own error")
    .argument('[resource]', 'one resource (default: all)')
    .option('--json', 'print JSON')
    // The listing above also takes --json and commander gives it the flag: read both.
    .action((resource: string | undefined, _opts: unknown, command: Command) => check(resource, command.optsWithGlobals()));
}

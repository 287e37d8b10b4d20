import type { Command } from 'commander';
import type { AuditEvent } from '../../audit/chain.js';
import { invalid } from '../../core/errors.js';
import { locateConfig } from '../../config/locate.js';
import { isoTime, keyValues, oneLine, printJson, printTable } from '../output.js';
import { action, api } from '../run.js';

/** Details as `key="value"` pairs; statement text collapsed onto one line (`--json` keeps it exact). */
export function summary(e: AuditEvent): string {
  const d = { ...e.details };
  if (typeof d.text === 'string') d.text = oneLine(d.text, 80);
  return keyValues(d);
}

export function auditCommands(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit trail');

  audit
    .command('list')
    .description('recent audit events, newest first')
    .option('--user <user>', 'events by or about this user')
    .option('--resource <resource>', 'events about this resource')
    .option('--action <action>', 'e.g. grant.revoked, or a prefix with *: grant.*')
    .option('--since <duration>', 'only the last 1h, 2d, …')
    .option('--limit <n>', 'at most N events', '50')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { user?: string; resource?: string; action?: string; since?: string; limit: string; json?: boolean }) => {
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 1) throw invalid('usage', '--limit must be a whole number of at least 1');
        const events = await api().audit({ user: opts.user, resource: opts.resource, action: opts.action, since: opts.since, limit });
        if (opts.json) return printJson(events);
        printTable(
          ['seq', 'at', 'actor', 'action', 'target', 'resource', 'details'],
          events.map((e) => [String(e.seq), isoTime(e.at), e.actor, { text: e.action, tone: e.action.endsWith('.refused') || e.action === 'auth.failed' ? 'red' : undefined }, e.target, e.resource ?? '-', summary(e)]),
          'no audit events match',
        );
      }),
    );

  audit
    .command('verify')
    .description('walk the hash chain in the store; exit 0 when it holds, 1 naming the first bad seq')
    .option('--config <file>', 'config file naming the store (default: $AIRLOCK_CONFIG, ./airlock.yaml, or the demo\'s ./.airlock/demo/airlock.yaml)')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { config?: string; json?: boolean }) => {
        // Loaded here, not at the top: the config schema and the store would otherwise load for every CLI command.
        const [{ loadConfig }, { openConfiguredStore }, { verifyAudit }, { checkIntentCoverage }, { intentDirFor }] = await Promise.all([
          import('../../config/load.js'),
          import('../../store/configured.js'),
          import('../../audit/chain.js'),
          import('../../audit/intent-coverage.js'),
          import('../../audit/intent-recovery.js'),
        ]);
        const config = loadConfig(locateConfig(opts.config, { demo: true }));
        const store = await openConfiguredStore(config);
        try {
          const result = await verifyAudit(store.db);
          const intents = await checkIntentCoverage(store.db, intentDirFor(store));
          if (opts.json) printJson({ ...result, intents });
          if (result.ok) {
            if (!opts.json) console.log(`audit chain holds: ${result.events} events, head ${result.head.slice(0, 16)}…`);
          } else {
            if (!opts.json) console.log(`audit chain BROKEN at seq ${result.firstBadSeq}: ${result.problem}`);
            process.exitCode = 1;
          }
          if (intents.ok) {
            if (!opts.json) console.log(`every forwarded statement has its outcome: ${intents.closed} closed${intents.open ? `, ${intents.open} open (in flight, or closed at the next start)` : ''}`);
          } else {
            if (!opts.json) {
              if (intents.missingCount) console.log(`${intents.missingCount} forwarded statement(s) have no outcome in the audit, e.g. intent ${intents.missing.join(', ')}`);
              if (intents.duplicated.length) console.log(`statement(s) recorded twice: intent ${intents.duplicated.join(', ')}`);
            }
            process.exitCode = 1;
          }
        } finally {
          await store.close();
        }
      }),
    );

  audit
    .command('export')
    .description('every event as JSON lines, oldest first (admins)')
    .option('--format <format>', 'jsonl', 'jsonl')
    .option('--since <duration>', 'only the last 1h, 2d, …')
    .action(
      action(async (opts: { format: string; since?: string }) => {
        if (opts.format !== 'jsonl') throw invalid('usage', `--format ${opts.format} is not supported; use --format jsonl`);
        process.stdout.write(await api().auditExport({ since: opts.since }));
      }),
    );
}

import type { Command } from 'commander';
import type { RequestOutcomeView } from '../../server/api-client.js';
import type { RequestView } from '../../server/views.js';
import { printJson, printTable, relative, when, type Tone } from '../output.js';
import { durationArgument } from '../duration-argument.js';
import { action, api } from '../run.js';

const REQUEST_TONE: Record<string, Tone | undefined> = { pending: 'yellow', approved: 'green', denied: 'red', cancelled: 'dim', expired: 'dim' };

interface JsonOpt {
  json?: boolean;
}

/** The fields other tools read from `request --json` (README "CLI"). */
function outcomeJson(o: RequestOutcomeView) {
  return {
    request: o.request,
    grant: o.grant,
  };
}

function describeOutcome(o: RequestOutcomeView): string {
  const r = o.request;
  if (o.grant?.state === 'active') {
    return `granted: ${o.grant.user} has ${o.grant.role} on ${o.grant.resource} until ${when(o.grant.expires_at)} — grant ${o.grant.id}`;
  }
  if (r.state === 'pending') {
    const got = r.reviews.filter((v) => v.decision === 'approve').length;
    return `request ${r.id} is pending: ${got} of ${r.approvals_needed} approvals (policy ${r.policy}); it expires ${relative(r.review_deadline)} (${when(r.review_deadline).split(' ')[0]}) if not reviewed`;
  }
  return `request ${r.id} is ${r.state}`;
}

async function waitForDecision(id: string): Promise<RequestOutcomeView> {
  const client = api();
  for (;;) {
    const r = await client.getRequest(id);
    if (r.state !== 'pending') {
      const grant = r.grant_id ? await client.getGrant(r.grant_id) : null;
      return { request: r, grant };
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

export function accessCommands(program: Command): void {
  program
    .command('request')
    .description('ask for access to a resource with one role, for a bounded time')
    .argument('<resource>', 'resource name, e.g. orders-db')
    .requiredOption('--role <role>', 'the role to request, e.g. read')
    .requiredOption('--for <duration>', 'how long: 90s, 15m, 1h30m, 4h, 2d', durationArgument)
    .option('--reason <text>', 'why you need it (some policies require it)')
    .option('--ticket <ref>', 'incident or change ticket, e.g. INC-4411')
    .option('--wait', 'wait until the request is reviewed')
    .option('--json', 'print JSON')
    .action(
      action(async (resource: string, opts: JsonOpt & { role: string; for: string; reason?: string; ticket?: string; wait?: boolean }) => {
        let o = await api().request({ resource, role: opts.role, duration: opts.for, reason: opts.reason, ticket: opts.ticket });
        if (opts.wait && o.request.state === 'pending') {
          if (!opts.json) console.error(describeOutcome(o) + '; waiting…');
          o = await waitForDecision(o.request.id);
        }
        if (opts.json) printJson(outcomeJson(o));
        else console.log(describeOutcome(o));
        if (o.request.state !== 'approved' && o.request.state !== 'pending') process.exitCode = 1;
      }),
    );

  program
    .command('requests')
    .description('your requests, plus those you may review')
    .option('--pending', 'only pending requests')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: JsonOpt & { pending?: boolean }) => {
        const rows = await api().requests(Boolean(opts.pending));
        if (opts.json) return printJson(rows);
        printTable(
          ['id', 'user', 'resource', 'role', 'for', 'state', 'approvals', 'reason', 'ticket', 'asked', 'you'],
          rows.map((r: RequestView & { can_review: boolean }) => [
            r.id,
            r.user,
            r.resource,
            r.role,
            r.duration,
            { text: r.state, tone: REQUEST_TONE[r.state] },
            `${r.reviews.filter((v) => v.decision === 'approve').length}/${r.approvals_needed}`,
            r.reason || '-',
            r.ticket || '-',
            when(r.created_at),
            r.can_review ? { text: 'may review', tone: 'cyan' } : '',
          ]),
          opts.pending ? 'no pending requests' : 'no requests',
        );
      }),
    );

  const review = (name: 'approve' | 'deny') =>
    program
      .command(name)
      .description(name === 'approve' ? 'approve a pending request (never your own)' : 'deny a pending request, saying why')
      .argument('<request-id>')
      .option('--json', 'print JSON');

  review('approve')
    .option('--comment <text>', 'a note for the requester and the audit trail')
    .action(
      action(async (id: string, opts: JsonOpt & { comment?: string }) => {
        const o = await api().approve(id, opts.comment);
        if (opts.json) printJson(outcomeJson(o));
        else console.log(o.grant ? describeOutcome(o) : `approved; ${describeOutcome(o)}`);
      }),
    );

  review('deny')
    .requiredOption('--comment <text>', 'why the request is denied')
    .action(
      action(async (id: string, opts: JsonOpt & { comment: string }) => {
        const o = await api().deny(id, opts.comment);
        if (opts.json) printJson(outcomeJson(o));
        else console.log(`denied request ${o.request.id}`);
      }),
    );

  program
    .command('cancel')
    .description('cancel your own pending request')
    .argument('<request-id>')
    .option('--json', 'print JSON')
    .action(
      action(async (id: string, opts: JsonOpt) => {
        const o = await api().cancel(id);
        if (opts.json) printJson(outcomeJson(o));
        else console.log(`cancelled request ${o.request.id}`);
      }),
    );
}

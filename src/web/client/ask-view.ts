import type { Dom } from './dom.js';
import type { Requestable, RequestRow } from './types.js';

export interface AskInput {
  resource: string;
  role: string;
  duration: string;
  reason: string;
  ticket: string;
}

/**
 * "Ask for access" (browser-side; see dom.ts): a form over what the caller
 * may request (`GET /api/resources`) that shows the policy's checks as the
 * fields are filled — duration within the maximum, a reason and a ticket of
 * the right form when required, whether a reviewer must approve — and the
 * progress of the request sent, live. The server checks it all again.
 */
export function askViewModule(dom: Dom) {
  const { h } = dom;

  const REFUSED = 'The policy would refuse this request: see the checks above.';
  const field = (id: string, label: string, control: HTMLElement, hint?: HTMLElement) => h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ?? null);

  function askForm(rows: readonly Requestable[], send: (a: AskInput) => Promise<void>): HTMLElement {
    if (!rows.length) return h('p', { class: 'empty' }, 'No policy lets you ask for access to anything yet. An admin adds you to a policy in airlock.yaml.');
    const resources = [...new Set(rows.map((r) => r.resource))];
    const resourceSel = h('select', { id: 'ask-resource', name: 'resource' }, resources.map((r) => h('option', { value: r }, r))) as HTMLSelectElement;
    const roleSel = h('select', { id: 'ask-role', name: 'role' }) as HTMLSelectElement;
    const duration = h('input', { id: 'ask-duration', name: 'duration', value: '30m', autocomplete: 'off', spellcheck: 'false', inputmode: 'text', list: 'ask-durations', 'aria-describedby': 'ask-duration-hint' }) as HTMLInputElement;
    const durations = h('datalist', { id: 'ask-durations' });
    const durationHint = h('p', { id: 'ask-duration-hint', class: 'muted small' });
    const reason = h('textarea', { id: 'ask-reason', name: 'reason', rows: 2, maxlength: 2000 }) as HTMLTextAreaElement;
    const ticket = h('input', { id: 'ask-ticket', name: 'ticket', autocomplete: 'off', spellcheck: 'false', maxlength: 200, 'aria-describedby': 'ask-ticket-hint' }) as HTMLInputElement;
    const ticketHint = h('p', { id: 'ask-ticket-hint', class: 'muted small' });
    const facts = h('p', { class: 'role-facts', id: 'ask-role-facts' });
    const checks = h('ul', { class: 'checks', 'aria-label': 'Policy checks', 'aria-live': 'polite' });
    const error = h('p', { class: 'form-error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Ask for access') as HTMLButtonElement;

    const current = () => rows.find((r) => r.resource === resourceSel.value && r.role === roleSel.value) ?? rows[0]!;

    function fillRoles(): void {
      const keep = roleSel.value;
      roleSel.replaceChildren(
        ...rows.filter((r) => r.resource === resourceSel.value).map((r) => h('option', { value: r.role, selected: r.role === keep }, `${r.role} — ${r.approval_needed ? 'needs approval' : 'granted at once'}`)),
      );
    }

    /** Each check as the policy states it, with whether the form meets it now. */
    function evaluate(): { ok: boolean; first: HTMLElement | null } {
      const r = current();
      const max = dom.parseDuration(r.max_duration);
      const secs = dom.parseDuration(duration.value);
      const ticketRe = r.requires.ticket ? safeRegExp(r.requires.ticket) : null;
      const items: Array<{ ok: boolean; text: string; field: HTMLElement | null }> = [
        { ok: secs !== null && (max === null || secs <= max), text: secs === null ? `Duration: write it like 15m, 1h30m or 2h` : `Duration ${duration.value.trim()} within the maximum of ${r.max_duration}`, field: duration },
      ];
      if (r.requires.reason) items.push({ ok: reason.value.trim().length > 0, text: 'A reason is required', field: reason });
      if (ticketRe) items.push({ ok: ticketRe.test(ticket.value.trim()), text: `A ticket matching ${r.requires.ticket} is required`, field: ticket });
      items.push({ ok: true, text: r.approval_needed ? `Needs approval: ${r.approval}` : 'Granted at once (no approval needed)', field: null });
      checks.replaceChildren(...items.map((i) => h('li', { class: i.ok ? 'check ok' : 'check bad' }, h('span', { 'aria-hidden': 'true' }, i.ok ? '✓ ' : '✗ '), h('span', { class: 'sr-only' }, i.ok ? 'met: ' : 'not met: '), i.text)));
      facts.replaceChildren(`${r.resource} (${r.kind}) · role ${r.role} allows ${r.allow.length ? r.allow.join(', ') : 'the HTTP rules of its role'} · policy ${r.policies.join(', ')}`);
      durationHint.replaceChildren(`At most ${r.max_duration}.`);
      ticketHint.replaceChildren(r.requires.ticket ? `Required, matching ${r.requires.ticket}.` : 'Optional.');
      reason.required = r.requires.reason;
      ticket.required = Boolean(ticketRe);
      const bad = items.find((i) => !i.ok);
      if (!bad && error.textContent === REFUSED) error.textContent = '';
      durations.replaceChildren(...['15m', '30m', '1h', '2h', '4h', '8h'].filter((d) => max === null || dom.parseDuration(d)! <= max).map((d) => h('option', { value: d })));
      return { ok: !bad, first: bad?.field ?? null };
    }

    const form = h(
      'form',
      { class: 'ask', 'aria-labelledby': 'ask-title', novalidate: true },
      h('h1', { id: 'ask-title' }, 'Ask for access'),
      h('div', { class: 'ask-grid' }, field('ask-resource', 'Resource', resourceSel), field('ask-role', 'Role', roleSel), field('ask-duration', 'Duration', duration, durationHint)),
      durations,
      facts,
      field('ask-reason', 'Reason', reason),
      field('ask-ticket', 'Ticket', ticket, ticketHint),
      checks,
      error,
      submit,
    ) as HTMLFormElement;

    resourceSel.addEventListener('change', () => {
      fillRoles();
      evaluate();
    });
    for (const el of [roleSel, duration, reason, ticket]) el.addEventListener('input', () => void evaluate());
    roleSel.addEventListener('change', () => void evaluate());
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const check = evaluate();
      if (!check.ok) {
        error.textContent = REFUSED;
        check.first?.focus();
        return;
      }
      error.textContent = '';
      submit.disabled = true;
      send({ resource: resourceSel.value, role: roleSel.value, duration: duration.value.trim(), reason: reason.value.trim(), ticket: ticket.value.trim() })
        .then(
          () => {
            reason.value = '';
            ticket.value = '';
            evaluate();
          },
          (err: unknown) => {
            error.textContent = dom.visible(typeof err === 'object' && err && 'message' in err ? String((err as { message: string }).message) : String(err));
          },
        )
        .finally(() => (submit.disabled = false));
    });
    fillRoles();
    evaluate();
    return form;
  }

  function safeRegExp(source: string): RegExp | null {
    try {
      return new RegExp(source);
    } catch {
      return null;
    }
  }

  /** Where a request stands, in words: sent → waiting for review → approved (grant active) or denied. */
  function progressText(r: RequestRow): string {
    const approvals = r.reviews.filter((v) => v.decision === 'approve');
    if (r.state === 'pending') return `Waiting for review: ${approvals.length} of ${r.approvals_needed} approval${r.approvals_needed === 1 ? '' : 's'}${approvals.length ? ` (${approvals.map((v) => v.reviewer).join(', ')})` : ''}`;
    if (r.state === 'approved') return approvals.length ? `Approved by ${approvals.map((v) => v.reviewer).join(', ')}: access granted` : 'Granted at once by the policy';
    if (r.state === 'denied') {
      const d = r.reviews.find((v) => v.decision === 'deny');
      return `Denied${d ? ` by ${d.reviewer}${d.comment ? `: ${d.comment}` : ''}` : ''}`;
    }
    return r.state === 'cancelled' ? 'Cancelled' : 'Expired: nobody reviewed it in time';
  }

  function progress(r: RequestRow, nowMs: number, cancel: (r: RequestRow) => void): HTMLElement {
    const steps: Array<[string, boolean]> = [
      ['Sent', true],
      ['Reviewed', r.state !== 'pending' || r.approvals_needed === 0],
      [r.state === 'denied' ? 'Denied' : r.state === 'cancelled' ? 'Cancelled' : r.state === 'expired' ? 'Expired' : 'Granted', r.state !== 'pending'],
    ];
    return h(
      'section',
      { class: `progress progress-${r.state}`, 'aria-labelledby': 'progress-title', 'data-request-id': r.id },
      h('h2', { id: 'progress-title' }, `Your request: ${r.role} on ${r.resource} for ${r.duration}`),
      h('ol', { class: 'steps' }, steps.map(([label, done]) => h('li', { class: done ? 'done' : '' }, label))),
      h('p', { class: 'progress-state', role: 'status' }, progressText(r)),
      h('p', { class: 'muted small' }, 'asked ', dom.time(r.created_at, dom.ago(r.created_at, nowMs)), r.state === 'pending' ? [' · review by ', dom.endsAt(r.review_deadline)] : null),
      r.state === 'approved' && r.grant_id ? h('p', {}, h('a', { href: '#now', class: 'button primary' }, 'Connect (on Now)')) : null,
      r.state === 'pending' ? h('button', { type: 'button', class: 'secondary', onclick: () => cancel(r) }, 'Cancel request') : null,
    );
  }

  return { askForm, progress, progressText };
}

export type AskView = ReturnType<typeof askViewModule>;

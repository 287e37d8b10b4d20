import type { Dom } from './dom.js';
import type { AuditEvent, GrantPage, GrantView, RequestView, SessionView, VerifyResult } from './types.js';

export interface Filters {
  user: string;
  resource: string;
  state: string;
  action: string;
  since: string;
}

/** History, audit and session views (browser-side; see dom.ts). */
export function historyViewModule(dom: Dom) {
  const { h } = dom;
  const SINCE_CHOICES: ReadonlyArray<[string, string]> = [
    ['1h', 'last hour'],
    ['24h', 'last 24 hours'],
    ['7d', 'last 7 days'],
    ['30d', 'last 30 days'],
    ['', 'all time'],
  ];

  function field(id: string, label: string, control: HTMLElement) {
    return h('div', { class: 'field' }, h('label', { for: id }, label), control);
  }

  function select(id: string, value: string, choices: ReadonlyArray<[string, string]>) {
    return h('select', { id, name: id }, choices.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
  }

  function readForm(form: HTMLFormElement, base: Filters): Filters {
    const data = new FormData(form);
    const text = (k: string) => (typeof data.get(k) === 'string' ? String(data.get(k)).trim() : '');
    return { ...base, user: text('f-user'), resource: text('f-resource'), state: text('f-state'), action: text('f-action'), since: text('f-since') };
  }

  function filterForm(kind: 'history' | 'audit', f: Filters, onApply: (f: Filters) => void) {
    const form = h(
      'form',
      { class: 'filters', role: 'search', 'aria-label': `${kind} filters` },
      field('f-user', 'User', h('input', { id: 'f-user', name: 'f-user', value: f.user, autocomplete: 'off', spellcheck: 'false' })),
      field('f-resource', 'Resource', h('input', { id: 'f-resource', name: 'f-resource', value: f.resource, autocomplete: 'off', spellcheck: 'false' })),
      kind === 'history'
        ? field('f-state', 'State', select('f-state', f.state, [['', 'any'], ['active', 'active'], ['expired', 'expired'], ['released', 'released'], ['revoked', 'revoked']]))
        : field('f-action', 'Action', h('input', { id: 'f-action', name: 'f-action', value: f.action, placeholder: 'grant.* or statement.refused', autocomplete: 'off', list: 'audit-actions' })),
      field('f-since', 'Time', select('f-since', f.since, SINCE_CHOICES)),
      h('button', { type: 'submit', class: 'primary' }, 'Apply'),
    ) as HTMLFormElement;
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      onApply(readForm(form, f));
    });
    return form;
  }

  function grantsTable(grants: readonly GrantView[]) {
    if (!grants.length) return h('p', { class: 'empty' }, 'No grants match.');
    return h(
      'table',
      { class: 'grid', 'aria-label': 'grants' },
      h('thead', {}, h('tr', {}, ['User', 'Resource · role', 'Why', 'State', 'Started', 'Ended', 'Ended by'].map((t) => h('th', { scope: 'col' }, t)))),
      h(
        'tbody',
        {},
        grants.map((g) =>
          h(
            'tr',
            { 'data-grant-id': g.id },
            h('td', { 'data-label': 'User' }, g.user),
            h('td', { 'data-label': 'Resource' }, h('a', { href: `#grant/${encodeURIComponent(g.id)}` }, g.resource), h('span', { class: `role role-${g.role}` }, g.role)),
            h('td', { class: 'why', 'data-label': 'Why' }, [g.ticket, g.reason].filter(Boolean).join(' ') || '—'),
            h('td', { 'data-label': 'State' }, h('span', { class: `state state-${g.state}` }, g.state)),
            h('td', { 'data-label': 'Started' }, dom.time(g.starts_at)),
            h('td', { 'data-label': 'Ended' }, dom.time(g.ended_at ?? (g.state === 'active' ? null : g.expires_at))),
            h('td', { 'data-label': 'Ended by' }, g.ended_by ? `${g.ended_by}${g.end_reason ? `: ${g.end_reason}` : ''}` : '—'),
          ),
        ),
      ),
    );
  }

  /** Sessions, each linked to its grant; `reasons` (grant id → why) adds the grant's reason where the caller has it. */
  function sessionsTable(sessions: readonly SessionView[], reasons: ReadonlyMap<string, string> = new Map()) {
    if (!sessions.length) return h('p', { class: 'empty' }, 'No sessions match.');
    return h(
      'table',
      { class: 'grid', 'aria-label': 'sessions' },
      h('thead', {}, h('tr', {}, ['Session', 'User', 'Resource · role', 'Client', 'Started', 'Ended', 'Statements', 'Grant'].map((t) => h('th', { scope: 'col' }, t)))),
      h(
        'tbody',
        {},
        sessions.map((s) =>
          h(
            'tr',
            {},
            h('td', { 'data-label': 'Session' }, h('a', { href: `#session/${encodeURIComponent(s.id)}`, class: 'mono' }, s.id)),
            h('td', { 'data-label': 'User' }, s.user),
            h('td', { 'data-label': 'Resource' }, s.resource, h('span', { class: `role role-${s.role}` }, s.role)),
            h('td', { 'data-label': 'Client' }, h('span', { class: 'mono' }, s.client_address), s.application_name ? ` ${s.application_name}` : '', s.node ? ` · ${s.node}` : ''),
            h('td', { 'data-label': 'Started' }, dom.time(s.started_at)),
            h('td', { 'data-label': 'Ended' }, s.ended_at ? [dom.time(s.ended_at), ` (${s.end_reason ?? ''})`] : h('span', { class: 'state state-active' }, 'live')),
            h('td', { class: 'num', 'data-label': 'Statements' }, String(s.statements), s.refused ? h('span', { class: 'refused' }, ` (${s.refused} refused)`) : null),
            h('td', { 'data-label': 'Grant' }, h('a', { href: `#grant/${encodeURIComponent(s.grant_id)}`, class: 'mono' }, s.grant_id), reasons.get(s.grant_id) ? h('span', { class: 'why small' }, ` ${reasons.get(s.grant_id)!}`) : null),
          ),
        ),
      ),
    );
  }

  function verifyBadge(v: VerifyResult | null) {
    if (!v) return h('p', { class: 'verify pending', role: 'status' }, 'Verifying the audit chain…');
    if (v.ok) return h('p', { class: 'verify ok', role: 'status' }, `✓ Audit chain verified: ${v.events} events, head ${v.head.slice(0, 12)}…`);
    return h('p', { class: 'verify bad', role: 'alert' }, `✗ Audit chain broken at event ${v.firstBadSeq}: ${v.problem}`);
  }

  const fact = (label: string, ...value: Parameters<typeof h>[2][]) => [h('dt', {}, label), h('dd', {}, ...value)];

  /** What one statement (or HTTP request) did: outcome, rows or status, duration; refusals with their reason. */
  function statementLine(e: AuditEvent) {
    const d = e.details;
    const refused = e.action === 'statement.refused' || d.outcome === 'refused';
    const outcome = String(d.outcome ?? (refused ? 'refused' : 'ok'));
    const result = typeof d.status === 'number' ? `HTTP ${d.status}` : typeof d.rows === 'number' ? `${d.rows} row${d.rows === 1 ? '' : 's'}` : typeof d.command_tag === 'string' ? d.command_tag : '';
    const text = typeof d.text === 'string' ? d.text : typeof d.method === 'string' ? `${d.method} ${String(d.path ?? '')}` : '(statement text not recorded)';
    return h(
      'li',
      { class: refused ? 'refused-row' : `outcome-row-${outcome}`, 'data-seq': e.seq },
      h(
        'div',
        { class: 'stmt-meta' },
        dom.time(e.at),
        ' ',
        h('span', { class: `outcome outcome-${outcome}` }, refused ? 'REFUSED' : outcome),
        result ? h('span', { class: 'result' }, ` · ${result}`) : null,
        typeof d.duration_ms === 'number' ? h('span', { class: 'duration' }, ` · ${d.duration_ms} ms`) : null,
        typeof d.sqlstate === 'string' && d.sqlstate ? ` · SQLSTATE ${d.sqlstate}` : '',
        d.reason ? h('span', { class: 'refusal-reason' }, ` — ${String(d.reason)}`) : null,
      ),
      h('pre', { class: 'sql' }, text),
    );
  }

  function renderSession(s: SessionView, events: readonly AuditEvent[], grant: GrantView | null) {
    const statements = events.filter((e) => e.action === 'statement' || e.action === 'statement.refused');
    return h(
      'section',
      { 'aria-labelledby': 'session-title' },
      h('p', {}, h('a', { href: '#history' }, '← History')),
      h('h1', { id: 'session-title' }, `Session ${s.id}`),
      h(
        'dl',
        { class: 'facts' },
        ...fact('User', s.user),
        ...fact('Resource · role', `${s.resource} · ${s.role}`),
        ...fact('Grant', h('a', { href: `#grant/${encodeURIComponent(s.grant_id)}`, class: 'mono' }, s.grant_id), grant ? [' — ', grant.ticket ? `${grant.ticket} ` : '', grant.reason ?? 'no reason given'] : ''),
        ...fact('Client', `${s.client_address}${s.application_name ? ` (${s.application_name})` : ''}`),
        ...(s.node ? fact('Node', s.node) : []),
        ...fact('Started', dom.time(s.started_at)),
        ...fact('Ended', s.ended_at ? [dom.time(s.ended_at), ` — ${s.end_reason ?? ''}`] : 'still open'),
        ...fact('Statements', `${s.statements} (${s.refused} refused)`),
      ),
      h('h2', {}, 'Timeline'),
      statements.length ? h('ol', { class: 'statements' }, statements.map(statementLine)) : h('p', { class: 'empty' }, 'No statements recorded.'),
    );
  }

  function reviewLines(r: RequestView) {
    return r.reviews.length
      ? h('ul', { class: 'reviews' }, r.reviews.map((v) => h('li', {}, h('strong', {}, v.reviewer), ` ${v.decision === 'approve' ? 'approved' : 'denied'} `, dom.time(v.at), v.comment ? `: ${v.comment}` : '')))
      : h('p', { class: 'muted' }, 'No reviews: the policy granted it at once.');
  }

  /** A grant's whole story: the request, its reviews, each extension, its sessions, and its end. */
  function renderGrant(p: GrantPage, nowMs: number) {
    const g = p.grant;
    return h(
      'section',
      { 'aria-labelledby': 'grant-title' },
      h('p', {}, h('a', { href: '#history' }, '← History')),
      h('h1', { id: 'grant-title' }, `${g.user}'s `, h('span', { class: `role role-${g.role}` }, g.role), ` on ${g.resource}`),
      h(
        'dl',
        { class: 'facts' },
        ...fact('Grant', h('span', { class: 'mono' }, g.id)),
        ...fact('State', h('span', { class: `state state-${g.state}` }, g.state)),
        ...fact('Why', g.ticket ? `${g.ticket} ` : '', g.reason ?? 'no reason given'),
        ...fact('Policy', g.policy),
        ...fact('Approved by', g.approved_by.length ? g.approved_by.join(', ') : 'nobody needed'),
        ...fact('Started', dom.endsAt(g.starts_at)),
        ...fact(g.state === 'active' ? 'Ends' : 'Was to end', dom.endsAt(g.expires_at), g.state === 'active' ? [' · ', dom.remaining(g.expires_at ?? '', nowMs), ' left'] : ''),
        ...(g.state !== 'active' ? fact('End', dom.endsAt(g.ended_at), ` — ${g.state}${g.ended_by ? ` by ${g.ended_by}` : ''}${g.end_reason ? `: ${g.end_reason}` : ''}`) : []),
      ),
      h('h2', {}, 'Request'),
      p.request
        ? h('div', { class: 'grant-request' }, h('p', {}, `Asked `, dom.time(p.request.created_at), ` for ${p.request.duration}`, p.request.reason ? `: ${p.request.reason}` : ''), reviewLines(p.request))
        : h('p', { class: 'muted' }, p.details_hidden ? 'The request and its reviews are visible to the requester, its reviewers and admins.' : 'Not found.'),
      h('h2', {}, 'Extensions'),
      p.extensions.length
        ? h('ul', { class: 'extensions' }, p.extensions.map((x) => h('li', {}, `${x.duration} more, asked `, dom.time(x.created_at), `: ${x.state}`, x.reason ? ` — ${x.reason}` : '', x.reviews.length ? ` (${x.reviews.map((v) => `${v.reviewer} ${v.decision}d`).join(', ')})` : '')))
        : h('p', { class: 'muted' }, 'None.'),
      h('h2', {}, 'Sessions'),
      sessionsTable(g.sessions),
    );
  }

  return { filterForm, grantsTable, sessionsTable, verifyBadge, renderSession, renderGrant };
}

export type HistoryView = ReturnType<typeof historyViewModule>;

import type { Dom } from './dom.js';
import type { AuditEvent, GrantView, SessionView, VerifyResult } from './types.js';

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
        : field('f-action', 'Action', h('input', { id: 'f-action', name: 'f-action', value: f.action, placeholder: 'grant.* or statement.refused', autocomplete: 'off' })),
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
            h('td', {}, g.user),
            h('td', {}, g.resource, h('span', { class: `role role-${g.role}` }, g.role)),
            h('td', { class: 'why' }, [g.ticket, g.reason].filter(Boolean).join(' ') || '—'),
            h('td', {}, h('span', { class: `state state-${g.state}` }, g.state)),
            h('td', {}, dom.time(g.starts_at)),
            h('td', {}, dom.time(g.ended_at ?? (g.state === 'active' ? null : g.expires_at))),
            h('td', {}, g.ended_by ? `${g.ended_by}${g.end_reason ? `: ${g.end_reason}` : ''}` : '—'),
          ),
        ),
      ),
    );
  }

  function sessionsTable(sessions: readonly SessionView[]) {
    if (!sessions.length) return h('p', { class: 'empty' }, 'No sessions match.');
    return h(
      'table',
      { class: 'grid', 'aria-label': 'sessions' },
      h('thead', {}, h('tr', {}, ['Session', 'User', 'Resource · role', 'Client', 'Started', 'Ended', 'Statements'].map((t) => h('th', { scope: 'col' }, t)))),
      h(
        'tbody',
        {},
        sessions.map((s) =>
          h(
            'tr',
            {},
            h('td', {}, h('a', { href: `#session/${encodeURIComponent(s.id)}`, class: 'mono' }, s.id)),
            h('td', {}, s.user),
            h('td', {}, s.resource, h('span', { class: `role role-${s.role}` }, s.role)),
            h('td', {}, h('span', { class: 'mono' }, s.client_address), s.application_name ? ` ${s.application_name}` : ''),
            h('td', {}, dom.time(s.started_at)),
            h('td', {}, s.ended_at ? [dom.time(s.ended_at), ` (${s.end_reason ?? ''})`] : h('span', { class: 'state state-active' }, 'live')),
            h('td', { class: 'num' }, String(s.statements), s.refused ? h('span', { class: 'refused' }, ` (${s.refused} refused)`) : null),
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

  function detailsText(e: AuditEvent): string {
    return Object.entries(e.details)
      .filter(([, v]) => v !== null && v !== undefined && v !== '')
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
  }

  function auditTable(events: readonly AuditEvent[]) {
    if (!events.length) return h('p', { class: 'empty' }, 'No audit events match.');
    return h(
      'table',
      { class: 'grid audit', 'aria-label': 'audit events' },
      h('thead', {}, h('tr', {}, ['#', 'Time', 'Actor', 'Action', 'Target', 'Details'].map((t) => h('th', { scope: 'col' }, t)))),
      h(
        'tbody',
        {},
        events.map((e) =>
          h(
            'tr',
            { 'data-seq': e.seq },
            h('td', { class: 'num' }, String(e.seq)),
            h('td', {}, dom.time(e.at)),
            h('td', {}, e.actor),
            h('td', {}, h('span', { class: `action action-${e.action.split('.')[0]}` }, e.action)),
            h('td', { class: 'mono' }, e.target),
            h('td', { class: 'details' }, detailsText(e)),
          ),
        ),
      ),
    );
  }

  function renderSession(s: SessionView, events: readonly AuditEvent[]) {
    const statements = events.filter((e) => e.action === 'statement' || e.action === 'statement.refused');
    return h(
      'section',
      { 'aria-labelledby': 'session-title' },
      h('p', {}, h('a', { href: '#history' }, '← History')),
      h('h1', { id: 'session-title' }, `Session ${s.id}`),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'User'),
        h('dd', {}, s.user),
        h('dt', {}, 'Resource · role'),
        h('dd', {}, `${s.resource} · ${s.role}`),
        h('dt', {}, 'Client'),
        h('dd', {}, `${s.client_address}${s.application_name ? ` (${s.application_name})` : ''}`),
        h('dt', {}, 'Started'),
        h('dd', {}, dom.time(s.started_at)),
        h('dt', {}, 'Ended'),
        h('dd', {}, s.ended_at ? [dom.time(s.ended_at), ` — ${s.end_reason ?? ''}`] : 'still open'),
        h('dt', {}, 'Statements'),
        h('dd', {}, `${s.statements} (${s.refused} refused)`),
      ),
      h('h2', {}, 'Statements in order'),
      statements.length
        ? h(
            'ol',
            { class: 'statements' },
            statements.map((e) =>
              h(
                'li',
                { class: e.action === 'statement.refused' ? 'refused-row' : '', 'data-seq': e.seq },
                h('div', { class: 'stmt-meta' }, dom.time(e.at), ' ', h('span', { class: `outcome outcome-${String(e.details.outcome ?? '')}` }, String(e.details.outcome ?? e.action)), e.details.command_tag ? ` ${String(e.details.command_tag)}` : '', e.details.reason ? ` — ${String(e.details.reason)}` : ''),
                h('pre', { class: 'sql' }, typeof e.details.text === 'string' ? e.details.text : '(statement text not recorded)'),
              ),
            ),
          )
        : h('p', { class: 'empty' }, 'No statements recorded.'),
    );
  }

  return { filterForm, grantsTable, sessionsTable, verifyBadge, auditTable, renderSession };
}

export type HistoryView = ReturnType<typeof historyViewModule>;

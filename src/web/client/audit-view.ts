import type { Dom } from './dom.js';
import type { AuditEvent } from './types.js';

/**
 * The audit trail as a table (browser-side; see dom.ts): resource, actor,
 * action and target in columns, each event expandable to every field, long
 * SQL folded to its first line until opened; and the same events as CSV.
 * All text reaches the page through dom.h, so hidden characters show escaped.
 */
export function auditViewModule(dom: Dom) {
  const { h } = dom;
  const LONG = 160;

  /** Every action family and action the server writes; a family (`statement.*`) also matches its plain head (`statement`). */
  const ACTIONS = [
    'grant.*', 'grant.activated', 'grant.extended', 'grant.expired', 'grant.released', 'grant.revoked', 'grant.secret_issued',
    'request.*', 'request.created', 'request.approved', 'request.denied', 'request.cancelled', 'request.expired',
    'session.*', 'session.started', 'session.ended', 'statement.*', 'statement', 'statement.refused',
    'token.*', 'token.issued', 'token.revoked', 'auth.failed', 'identity.*', 'resource.checked', 'upstream.failed', 'audit.gap',
  ];

  function actionList() {
    return h('datalist', { id: 'audit-actions' }, ACTIONS.map((a) => h('option', { value: a })));
  }

  const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

  /** Long text (SQL above all) folded to its first line; the whole of it one click away. */
  function longText(text: string) {
    if (text.length <= LONG && !text.includes('\n')) return h('span', { class: 'mono' }, text);
    const first = text.split('\n')[0]!.slice(0, LONG);
    return h('details', { class: 'long' }, h('summary', {}, h('span', { class: 'mono' }, `${first}…`), h('span', { class: 'muted small' }, ` (${text.length} characters)`)), h('pre', { class: 'sql' }, text));
  }

  function fields(e: AuditEvent) {
    const rows: Array<[string, unknown]> = [
      ['seq', e.seq], ['at', e.at], ['actor', e.actor], ['action', e.action], ['target', e.target],
      ['subject user', e.subject_user], ['resource', e.resource],
      ...Object.entries(e.details).filter(([, v]) => v !== null && v !== undefined && v !== ''),
      ['hash', e.hash],
    ];
    return h('dl', { class: 'facts event-fields' }, rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, k === 'text' || show(v).length > LONG ? longText(show(v)) : h('span', { class: 'mono' }, show(v ?? '—')))]));
  }

  /** A one-line digest of the details for the collapsed row. */
  function summary(e: AuditEvent): string {
    const d = e.details;
    const text = typeof d.text === 'string' ? d.text.replace(/\s+/g, ' ') : '';
    const bits = [d.outcome, d.reason, d.comment, text].filter((v) => typeof v === 'string' && v).map(String);
    const line = bits.join(' · ');
    return line.length > 120 ? `${line.slice(0, 119)}…` : line;
  }

  function auditTable(events: readonly AuditEvent[], expanded: Set<number>) {
    if (!events.length) return h('p', { class: 'empty' }, 'No audit events match.');
    const rows = events.flatMap((e) => {
      const open = expanded.has(e.seq);
      const toggle = h(
        'button',
        {
          type: 'button',
          class: 'link expand',
          'aria-expanded': open ? 'true' : 'false',
          'aria-controls': `ev-${e.seq}`,
          'aria-label': `${open ? 'Hide' : 'Show'} the fields of event ${e.seq}`,
          onclick: () => {
            const now = !expanded.has(e.seq);
            if (now) expanded.add(e.seq);
            else expanded.delete(e.seq);
            toggle.setAttribute('aria-expanded', String(now));
            detail.hidden = !now;
            toggle.textContent = now ? '▾' : '▸';
          },
        },
        open ? '▾' : '▸',
      );
      const refused = e.action === 'statement.refused' || e.action === 'auth.failed';
      const row = h(
        'tr',
        { 'data-seq': e.seq, class: refused ? 'refused-row' : '' },
        h('td', { class: 'num', 'data-label': '#' }, toggle, ` ${e.seq}`),
        h('td', { 'data-label': 'Time' }, dom.time(e.at)),
        h('td', { 'data-label': 'Resource' }, e.resource ?? h('span', { class: 'muted' }, '—')),
        h('td', { 'data-label': 'Actor' }, e.actor),
        h('td', { 'data-label': 'Action' }, h('span', { class: `action action-${e.action.split('.')[0]}` }, e.action)),
        h('td', { class: 'mono', 'data-label': 'Target' }, e.target),
        h('td', { class: 'details', 'data-label': 'Details' }, summary(e)),
      );
      const detail = h('tr', { class: 'event-detail', id: `ev-${e.seq}`, hidden: !open }, h('td', { colspan: 7 }, fields(e)));
      return [row, detail];
    });
    return h(
      'table',
      { class: 'grid audit', 'aria-label': 'audit events' },
      h('thead', {}, h('tr', {}, ['#', 'Time', 'Resource', 'Actor', 'Action', 'Target', 'Details'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows),
    );
  }

  /** RFC 4180 CSV; a cell that a spreadsheet would run as a formula is prefixed with a quote. */
  function auditCsv(events: readonly AuditEvent[]): string {
    const cell = (v: unknown) => {
      let s = v === null || v === undefined ? '' : show(v);
      if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
      return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    };
    const head = ['seq', 'at', 'actor', 'action', 'target', 'subject_user', 'resource', 'details', 'hash'];
    return [head.join(','), ...events.map((e) => [e.seq, e.at, e.actor, e.action, e.target, e.subject_user, e.resource, e.details, e.hash].map(cell).join(','))].join('\r\n') + '\r\n';
  }

  /** Hands the events to the browser as a file (JSON or CSV), made in the page from what the viewer may see. */
  function download(events: readonly AuditEvent[], format: 'json' | 'csv'): void {
    const body = format === 'json' ? JSON.stringify(events, null, 2) : auditCsv(events);
    const link = h('a', { href: URL.createObjectURL(new Blob([body], { type: format === 'json' ? 'application/json' : 'text/csv' })), download: `airlock-audit.${format}` }) as HTMLAnchorElement;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  }

  return { auditTable, auditCsv, actionList, download };
}

export type AuditView = ReturnType<typeof auditViewModule>;

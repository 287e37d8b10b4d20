import type { Dom } from './dom.js';
import type { GrantView, NowData, NowGrant, SessionView } from './types.js';

export interface NowActions {
  release(g: NowGrant): void;
  revoke(g: NowGrant): void;
  toggleConnect(g: NowGrant): void;
}

/** A grant that ended while the page watched it, with who ended it and why. */
export interface EndNotice {
  id: string;
  text: string;
}

/**
 * The "Now" view: pure rendering from data to nodes (browser-side; see
 * dom.ts). Buttons appear only where the API said the action is allowed
 * (`can_release`, `can_revoke`); the API still checks. Each table cell
 * carries its column name, so on a phone the rows become labelled cards.
 */
export function nowViewModule(dom: Dom) {
  const { h } = dom;

  function why(reason: string | null) {
    return reason ? h('span', {}, reason) : h('span', { class: 'muted' }, 'no reason given');
  }

  /** The ticket as a link to the tracker when `ticket_url` is configured; the ticket text goes in as one encoded path value. */
  function ticket(t: string | null, ticketUrl: string | null) {
    if (!t) return h('span', { class: 'muted' }, '—');
    if (!ticketUrl) return h('span', { class: 'ticket' }, t);
    return h('a', { class: 'ticket', href: ticketUrl.replace('{ticket}', encodeURIComponent(t)), target: '_blank', rel: 'noopener noreferrer' }, t);
  }

  function sessionLine(s: SessionView, nowMs: number) {
    return h(
      'li',
      { 'data-session-id': s.id },
      h('a', { href: `#session/${encodeURIComponent(s.id)}` }, s.application_name || 'client'),
      ' from ',
      h('span', { class: 'mono' }, s.client_address),
      s.node ? [' on ', h('span', { class: 'mono' }, s.node)] : null,
      ', started ',
      dom.time(s.started_at, dom.ago(s.started_at, nowMs)),
      ' · ',
      h('span', { class: 'num' }, `${s.statements} statement${s.statements === 1 ? '' : 's'}`),
      s.refused ? h('span', { class: 'refused' }, ` · ${s.refused} refused`) : null,
    );
  }

  const cell = (label: string, attrs: Record<string, string>, ...children: Parameters<typeof h>[2][]) => h('td', { 'data-label': label, ...attrs }, ...children);

  function grantRows(g: NowGrant, data: NowData, nowMs: number, act: NowActions, mine: boolean, connect: HTMLElement | null) {
    const row = h(
      'tr',
      { 'data-grant-id': g.id },
      cell('User', {}, h('strong', {}, g.user)),
      cell('Resource', {}, h('a', { href: `#grant/${encodeURIComponent(g.id)}` }, g.resource), h('span', { class: `role role-${g.role}` }, g.role)),
      cell('Why', { class: 'why' }, why(g.reason)),
      cell('Ticket', { class: 'ticket-cell' }, ticket(g.ticket, data.ticket_url)),
      cell('Approved by', {}, g.approved_by.length ? g.approved_by.join(', ') : h('span', { class: 'muted', title: `policy ${g.policy}` }, 'auto (policy)')),
      cell(
        'Ends',
        { class: 'ends' },
        h('span', { class: 'countdown', 'data-expires': g.expires_at ?? '', 'aria-label': 'time left' }, dom.remaining(g.expires_at ?? '', nowMs)),
        ' ',
        dom.endsAt(g.expires_at),
        g.original_expires_at ? h('span', { class: 'extended' }, 'extended, first until ', dom.endsAt(g.original_expires_at)) : null,
      ),
      h(
        'td',
        { class: 'actions' },
        mine
          ? h('button', { type: 'button', class: 'primary', 'aria-expanded': connect ? 'true' : 'false', onclick: () => act.toggleConnect(g), 'aria-label': `Connect to ${g.resource}` }, 'Connect')
          : null,
        g.can_release ? h('button', { type: 'button', class: 'secondary', onclick: () => act.release(g), 'aria-label': `Release ${g.role} on ${g.resource}` }, 'Release') : null,
        g.can_revoke ? h('button', { type: 'button', class: 'danger', onclick: () => act.revoke(g), 'aria-label': `Revoke ${g.user}'s ${g.role} on ${g.resource}` }, 'Revoke') : null,
      ),
    );
    const connectRow = connect ? h('tr', { class: 'connect-row', 'data-connect-of': g.id }, h('td', { colspan: 7 }, connect)) : null;
    const sessions = g.sessions.length
      ? h('tr', { class: 'sessions', 'data-sessions-of': g.id }, h('td', { colspan: 7 }, h('ul', { 'aria-label': `live sessions of ${g.user} on ${g.resource}` }, g.sessions.map((s) => sessionLine(s, nowMs)))))
      : null;
    return [row, connectRow, sessions];
  }

  function renderNow(data: NowData, me: string, nowMs: number, act: NowActions, notices: readonly EndNotice[], dismiss: (id: string) => void, connectFor: (g: NowGrant) => HTMLElement | null): HTMLElement {
    const { grants, waiting } = data;
    const banner = waiting
      ? h('p', { class: 'banner' }, h('a', { href: '#requests' }, `${waiting} request${waiting === 1 ? '' : 's'} waiting for your review →`))
      : null;
    const ended = notices.length
      ? h(
          'ul',
          { class: 'notices', 'aria-label': 'grants that just ended' },
          notices.map((n) => h('li', { class: 'notice', 'data-notice-of': n.id }, h('span', {}, n.text), h('button', { type: 'button', class: 'link', onclick: () => dismiss(n.id), 'aria-label': 'Dismiss this notice' }, 'Dismiss'))),
        )
      : null;
    const body = grants.length
      ? h(
          'table',
          { class: 'grid grants', 'aria-describedby': 'now-title' },
          h('colgroup', {}, ['user', 'resource', 'why', 'ticket', 'approver', 'ends', 'actions'].map((c) => h('col', { class: `col-${c}` }))),
          h('thead', {}, h('tr', {}, ['User', 'Resource · role', 'Why', 'Ticket', 'Approved by', 'Ends'].map((t) => h('th', { scope: 'col' }, t)), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
          h('tbody', {}, grants.flatMap((g) => grantRows(g, data, nowMs, act, g.user === me, connectFor(g)))),
        )
      : h('p', { class: 'empty' }, 'Nobody holds access right now. ', h('a', { href: '#ask' }, 'Ask for access'));
    return h('section', { 'aria-labelledby': 'now-title' }, h('h1', { id: 'now-title' }, 'Active grants ', h('span', { class: 'count' }, String(grants.length))), ended, banner, body);
  }

  /** What the notice says of a grant that left the view: who ended it and why, when the API could tell. */
  function endedText(g: NowGrant, ended: GrantView | null): string {
    const what = `${g.user}'s ${g.role} on ${g.resource}`;
    const why = ended?.end_reason ? `: ${ended.end_reason}` : '';
    if (ended?.state === 'revoked') return `${what} was revoked by ${ended.ended_by ?? 'someone'}${why}.`;
    if (ended?.state === 'released') return `${g.user} released ${g.role} on ${g.resource}.`;
    if (ended?.state === 'expired') return `${what} expired at ${dom.clock(ended.expires_at)}.`;
    return `${what} ended.`;
  }

  return { renderNow, endedText };
}

export type NowView = ReturnType<typeof nowViewModule>;

import type { Dom } from './dom.js';
import type { Me, NowGrant, RequestRow, SessionView } from './types.js';

export interface NowActions {
  release(g: NowGrant): void;
  revoke(g: NowGrant): void;
  approve(r: RequestRow): void;
  deny(r: RequestRow): void;
  cancel(r: RequestRow): void;
}

/**
 * The "Now" and "Requests" views: pure rendering from data to nodes
 * (browser-side; see dom.ts). Buttons appear only where the API said the
 * action is allowed (`can_release`, `can_revoke`, `can_review`); the API
 * still checks.
 */
export function nowViewModule(dom: Dom) {
  const { h } = dom;

  function why(reason: string | null, ticket: string | null) {
    if (!reason && !ticket) return h('span', { class: 'muted' }, 'no reason given');
    return h('span', {}, ticket ? h('span', { class: 'ticket' }, ticket) : null, ticket && reason ? ' ' : null, reason ?? '');
  }

  function sessionLine(s: SessionView, nowMs: number) {
    return h(
      'li',
      { 'data-session-id': s.id },
      h('a', { href: `#session/${encodeURIComponent(s.id)}` }, s.application_name || 'client'),
      ' from ',
      h('span', { class: 'mono' }, s.client_address),
      ', started ',
      dom.time(s.started_at, dom.ago(s.started_at, nowMs)),
      ' · ',
      h('span', { class: 'num' }, `${s.statements} statement${s.statements === 1 ? '' : 's'}`),
      s.refused ? h('span', { class: 'refused' }, ` · ${s.refused} refused`) : null,
    );
  }

  function grantRows(g: NowGrant, nowMs: number, act: NowActions) {
    const row = h(
      'tr',
      { 'data-grant-id': g.id },
      h('td', {}, h('strong', {}, g.user)),
      h('td', {}, g.resource, h('span', { class: `role role-${g.role}` }, g.role)),
      h('td', { class: 'why' }, why(g.reason, g.ticket)),
      h('td', {}, g.approved_by.length ? g.approved_by.join(', ') : h('span', { class: 'muted', title: `policy ${g.policy}` }, 'auto (policy)')),
      h('td', {}, dom.time(g.starts_at)),
      h('td', { class: 'countdown', 'data-expires': g.expires_at, title: `until ${g.expires_at}`, 'aria-label': 'time left' }, dom.remaining(g.expires_at ?? '', nowMs)),
      h(
        'td',
        { class: 'actions' },
        g.can_release ? h('button', { type: 'button', class: 'secondary', onclick: () => act.release(g), 'aria-label': `Release ${g.role} on ${g.resource}` }, 'Release') : null,
        g.can_revoke ? h('button', { type: 'button', class: 'danger', onclick: () => act.revoke(g), 'aria-label': `Revoke ${g.user}'s ${g.role} on ${g.resource}` }, 'Revoke') : null,
      ),
    );
    const sessions = g.sessions.length
      ? h('tr', { class: 'sessions', 'data-sessions-of': g.id }, h('td', { colspan: 7 }, h('ul', { 'aria-label': `live sessions of ${g.user} on ${g.resource}` }, g.sessions.map((s) => sessionLine(s, nowMs)))))
      : null;
    return [row, sessions];
  }

  function renderNow(grants: readonly NowGrant[], waiting: number, nowMs: number, act: NowActions): HTMLElement {
    const banner = waiting
      ? h('p', { class: 'banner' }, h('a', { href: '#requests' }, `${waiting} request${waiting === 1 ? '' : 's'} waiting for your review →`))
      : null;
    const body = grants.length
      ? h(
          'table',
          { class: 'grid grants', 'aria-describedby': 'now-title' },
          h('colgroup', {}, ['user', 'resource', 'why', 'approver', 'started', 'left', 'actions'].map((c) => h('col', { class: `col-${c}` }))),
          h('thead', {}, h('tr', {}, ['User', 'Resource · role', 'Why', 'Approved by', 'Started', 'Time left'].map((t) => h('th', { scope: 'col' }, t)), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
          h('tbody', {}, grants.flatMap((g) => grantRows(g, nowMs, act))),
        )
      : h('p', { class: 'empty' }, 'Nobody holds access right now.');
    return h('section', { 'aria-labelledby': 'now-title' }, h('h1', { id: 'now-title' }, 'Active grants ', h('span', { class: 'count' }, String(grants.length))), banner, body);
  }

  function requestItem(r: RequestRow, me: Me, nowMs: number, act: NowActions) {
    const mine = r.user === me.user;
    const approvals = r.reviews.filter((v) => v.decision === 'approve').length;
    return h(
      'li',
      { class: 'request', 'data-request-id': r.id },
      h(
        'div',
        { class: 'request-main' },
        h('p', { class: 'request-title' }, h('strong', {}, r.user), ` asks for `, h('span', { class: `role role-${r.role}` }, r.role), ` on ${r.resource} for ${r.duration}`, r.extends_grant_id ? ' more (extension)' : ''),
        h('p', { class: 'why' }, why(r.reason, r.ticket)),
        h(
          'p',
          { class: 'muted small' },
          `${r.state} · asked `,
          dom.time(r.created_at, dom.ago(r.created_at, nowMs)),
          r.state === 'pending' ? ` · ${approvals} of ${r.approvals_needed} approvals · review by ${dom.clock(r.review_deadline)}` : '',
          r.reviews.length ? ` · ${r.reviews.map((v) => `${v.reviewer} ${v.decision === 'approve' ? 'approved' : 'denied'}${v.comment ? `: ${v.comment}` : ''}`).join('; ')}` : '',
        ),
      ),
      h(
        'div',
        { class: 'actions' },
        r.can_review ? h('button', { type: 'button', class: 'primary', onclick: () => act.approve(r), 'aria-label': `Approve ${r.user}'s request for ${r.role} on ${r.resource}` }, 'Approve') : null,
        r.can_review ? h('button', { type: 'button', class: 'danger', onclick: () => act.deny(r), 'aria-label': `Deny ${r.user}'s request for ${r.role} on ${r.resource}` }, 'Deny') : null,
        mine && r.state === 'pending' ? h('button', { type: 'button', class: 'secondary', onclick: () => act.cancel(r) }, 'Cancel request') : null,
      ),
    );
  }

  function renderRequests(requests: readonly RequestRow[], me: Me, nowMs: number, act: NowActions): HTMLElement {
    const toReview = requests.filter((r) => r.can_review);
    const mine = requests.filter((r) => r.user === me.user);
    const list = (items: readonly RequestRow[], empty: string, label: string) =>
      items.length ? h('ul', { class: 'requests', 'aria-label': label }, items.map((r) => requestItem(r, me, nowMs, act))) : h('p', { class: 'empty' }, empty);
    return h(
      'section',
      { 'aria-labelledby': 'requests-title' },
      h('h1', { id: 'requests-title' }, 'Requests'),
      h('h2', {}, 'Waiting for your review ', h('span', { class: 'count' }, String(toReview.length))),
      list(toReview, 'Nothing waits for your review.', 'requests waiting for your review'),
      h('h2', {}, 'Your requests'),
      list(mine.slice(0, 50), 'You have not asked for access yet. Run `airlock request RESOURCE --role ROLE --for 30m --reason "…"`.', 'your requests'),
    );
  }

  return { renderNow, renderRequests };
}

export type NowView = ReturnType<typeof nowViewModule>;

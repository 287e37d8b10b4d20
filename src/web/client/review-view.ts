import type { Dom } from './dom.js';
import type { Me, RequestRow, RequestsData, ReviewRow } from './types.js';

export interface ReviewActions {
  approve(r: RequestRow, comment: string): void;
  deny(r: RequestRow, comment: string): void;
  cancel(r: RequestRow): void;
}

/**
 * The Requests view (browser-side; see dom.ts). A request waiting for the
 * viewer is a card with what a reviewer is saying yes to — the role's scope,
 * the policy, who else may approve, the requester's recent grants on that
 * resource — and a comment box (optional to approve, required to deny). With
 * a card focused, `a` approves and `d` denies. Comments typed are kept in
 * `comments` so a live refresh never loses them.
 */
export function reviewViewModule(dom: Dom) {
  const { h } = dom;

  function why(r: RequestRow) {
    return h('p', { class: 'why' }, r.ticket ? h('span', { class: 'ticket' }, r.ticket) : null, r.ticket && r.reason ? ' ' : null, r.reason ?? (r.ticket ? '' : h('span', { class: 'muted' }, 'no reason given')));
  }

  function reviewsLine(r: RequestRow) {
    return r.reviews.length ? r.reviews.map((v) => `${v.reviewer} ${v.decision === 'approve' ? 'approved' : 'denied'}${v.comment ? `: ${v.comment}` : ''}`).join('; ') : '';
  }

  function fact(label: string, ...value: Parameters<typeof h>[2][]) {
    return [h('dt', {}, label), h('dd', {}, ...value)];
  }

  function scopeFacts(r: ReviewRow) {
    const s = r.scope;
    if (!s) return fact('Role allows', 'unknown role');
    if (s.kind === 'http') return [...fact('Role allows', list(s.allow)), ...(s.deny.length ? fact('Denied', list(s.deny)) : [])];
    return [...fact('Statements', s.classes.join(', ')), ...fact('Tables', list(s.tables)), ...(s.deny_tables.length ? fact('Never', list(s.deny_tables)) : [])];
  }

  const list = (items: readonly string[]) => h('span', { class: 'mono' }, items.join('  ·  '));

  function reviewCard(r: ReviewRow, nowMs: number, act: ReviewActions, comments: Map<string, string>) {
    const approvals = r.reviews.filter((v) => v.decision === 'approve').length;
    const commentId = `comment-${r.id}`;
    const comment = h('textarea', { id: commentId, rows: 2, maxlength: 2000, class: 'comment', 'aria-describedby': `${commentId}-hint` }) as HTMLTextAreaElement;
    comment.value = comments.get(r.id) ?? '';
    comment.addEventListener('input', () => comments.set(r.id, comment.value));
    const error = h('p', { class: 'form-error', role: 'alert' });
    const deny = () => {
      if (!comment.value.trim()) {
        error.textContent = 'A comment is required to deny: tell the requester why.';
        comment.focus();
        return;
      }
      act.deny(r, comment.value.trim());
    };
    const p = r.policy_facts;
    const card = h(
      'li',
      { class: 'request review-card', 'data-request-id': r.id, tabindex: '0', 'aria-labelledby': `title-${r.id}`, 'aria-keyshortcuts': 'a d' },
      h('div', { class: 'request-main' },
        h('p', { class: 'request-title', id: `title-${r.id}` }, h('strong', {}, r.user), ' asks for ', h('span', { class: `role role-${r.role}` }, r.role), ` on ${r.resource} for ${r.duration}`, r.extends_grant_id ? ' more (extension)' : ''),
        why(r),
        h('dl', { class: 'facts review-facts' },
          ...scopeFacts(r),
          ...fact('Policy', p ? `${p.name}: ${p.approval}; at most ${p.max_duration ?? '?'}${p.requires.ticket ? `; ticket ${p.requires.ticket}` : ''}${p.requires.reason ? '; reason required' : ''}` : r.policy),
          ...fact('Approvals', `${approvals} of ${r.approvals_needed}`, reviewsLine(r) ? ` (${reviewsLine(r)})` : ''),
          ...fact('Others who may approve', r.other_reviewers.length ? r.other_reviewers.join(', ') : 'nobody else'),
          ...fact(
            `${r.user}'s recent grants on ${r.resource}`,
            r.recent_grants.length
              ? h('ul', { class: 'recent' }, r.recent_grants.map((g) => h('li', {}, h('a', { href: `#grant/${encodeURIComponent(g.id)}` }, g.role), ` ${g.state}, `, dom.time(g.starts_at), g.reason ? ` — ${g.reason}` : '')))
              : 'none',
          ),
          ...fact('Asked', dom.time(r.created_at, dom.ago(r.created_at, nowMs)), ' · review by ', dom.endsAt(r.review_deadline)),
        ),
        h('label', { for: commentId }, 'Comment'),
        comment,
        h('p', { id: `${commentId}-hint`, class: 'muted small' }, 'Optional to approve, required to deny. The requester sees it.'),
        error,
      ),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'primary', onclick: () => act.approve(r, comment.value.trim()), 'aria-label': `Approve ${r.user}'s request for ${r.role} on ${r.resource}`, 'aria-keyshortcuts': 'a' }, 'Approve'),
        h('button', { type: 'button', class: 'danger', onclick: deny, 'aria-label': `Deny ${r.user}'s request for ${r.role} on ${r.resource}`, 'aria-keyshortcuts': 'd' }, 'Deny'),
      ),
    );
    card.addEventListener('keydown', (e) => {
      const target = e.target as HTMLElement;
      // Letters typed into the comment are text, not decisions; and no modifiers, so browser shortcuts stay theirs.
      if (target.closest('textarea, input, select') || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === 'a') {
        e.preventDefault();
        act.approve(r, comment.value.trim());
      } else if (e.key === 'd') {
        e.preventDefault();
        deny();
      }
    });
    return card;
  }

  function requestItem(r: RequestRow, me: Me, nowMs: number, act: ReviewActions) {
    const mine = r.user === me.user;
    const approvals = r.reviews.filter((v) => v.decision === 'approve').length;
    return h(
      'li',
      { class: `request state-row-${r.state}`, 'data-request-id': r.id },
      h(
        'div',
        { class: 'request-main' },
        h('p', { class: 'request-title' }, h('strong', {}, r.user), ' asks for ', h('span', { class: `role role-${r.role}` }, r.role), ` on ${r.resource} for ${r.duration}`, r.extends_grant_id ? ' more (extension)' : ''),
        why(r),
        h(
          'p',
          { class: 'muted small' },
          h('span', { class: `state state-${r.state}` }, r.state),
          ' · asked ',
          dom.time(r.created_at, dom.ago(r.created_at, nowMs)),
          r.state === 'pending' ? ` · ${approvals} of ${r.approvals_needed} approvals · review by ${dom.clock(r.review_deadline)}` : '',
          r.decided_at && r.state !== 'pending' ? [' · decided ', dom.time(r.decided_at, dom.ago(r.decided_at, nowMs))] : null,
          r.reviews.length ? ` · ${reviewsLine(r)}` : '',
          r.grant_id ? [' · ', h('a', { href: `#grant/${encodeURIComponent(r.grant_id)}` }, 'grant')] : null,
        ),
      ),
      h('div', { class: 'actions' }, mine && r.state === 'pending' ? h('button', { type: 'button', class: 'secondary', onclick: () => act.cancel(r) }, 'Cancel request') : null),
    );
  }

  function renderRequests(data: RequestsData, me: Me, nowMs: number, act: ReviewActions, comments: Map<string, string>): HTMLElement {
    const list = (items: readonly RequestRow[], empty: string, label: string) =>
      items.length ? h('ul', { class: 'requests', 'aria-label': label }, items.map((r) => requestItem(r, me, nowMs, act))) : h('p', { class: 'empty' }, empty);
    return h(
      'section',
      { 'aria-labelledby': 'requests-title' },
      h('h1', { id: 'requests-title' }, 'Requests'),
      h('h2', {}, 'Waiting for your review ', h('span', { class: 'count' }, String(data.to_review.length))),
      h('p', { class: 'muted small shortcuts' }, 'Keyboard: Tab to a request, then ', h('kbd', {}, 'a'), ' approves and ', h('kbd', {}, 'd'), ' denies (a denial needs a comment).'),
      data.to_review.length
        ? h('ul', { class: 'requests', 'aria-label': 'requests waiting for your review' }, data.to_review.map((r) => reviewCard(r, nowMs, act, comments)))
        : h('p', { class: 'empty' }, 'Nothing waits for your review.'),
      h('h2', {}, 'Decided'),
      list(data.decided, 'No decided requests yet.', 'decided requests'),
      h('h2', {}, 'Your requests'),
      list(data.mine, 'You have not asked for access yet.', 'your requests'),
    );
  }

  return { renderRequests };
}

export type ReviewView = ReturnType<typeof reviewViewModule>;

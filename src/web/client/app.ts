import type { Api } from './api.js';
import type { AskText } from './dialog.js';
import type { Dom } from './dom.js';
import type { Filters, HistoryView } from './history-view.js';
import type { NowActions, NowView } from './now-view.js';
import type { AuditEvent, GrantView, Me, NowGrant, RequestRow, SessionView, VerifyResult } from './types.js';

interface NowData {
  now: string;
  grants: NowGrant[];
  waiting: number;
}

type Route = { view: 'now' | 'requests' | 'history' | 'audit' } | { view: 'session'; id: string };

/**
 * The dashboard's controller (browser-side; see dom.ts): sign-in, hash
 * routing, one EventSource, and a refetch of the current view whenever the
 * stream says something changed. Snapshots come from the same API the CLI
 * uses; the stream only says "changed since seq N", so a missed or repeated
 * event can never leave the page showing something the API would not.
 */
export function appMain(dom: Dom, api: Api, askText: AskText, nowView: NowView, historyView: HistoryView): void {
  const { h } = dom;
  const root = document.getElementById('app') as HTMLElement;
  const sinceMs: Record<string, number> = { '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3, '30d': 30 * 86400e3 };
  let me: Me | null = null;
  let skewMs = 0;
  let lastEventId: string | null = null;
  let source: EventSource | null = null;
  let route: Route = { view: 'now' };
  let historyFilters: Filters = { user: '', resource: '', state: '', action: '', since: '7d' };
  let auditFilters: Filters = { user: '', resource: '', state: '', action: '', since: '24h' };
  let verify: VerifyResult | null = null;
  const content = h('main', { id: 'content', tabindex: '-1' });
  const status = h('span', { class: 'stream', role: 'status', 'aria-live': 'polite' }, 'Connecting…');
  const toast = h('div', { class: 'toast', role: 'status', 'aria-live': 'polite' });
  const badge = h('span', { class: 'badge', 'aria-label': 'requests waiting for your review' }, '');
  const nav = h('nav', { 'aria-label': 'Views' });
  const serverNow = () => Date.now() + skewMs;

  let toastTimer: ReturnType<typeof setTimeout> | undefined;
  function say(text: string, isError = false): void {
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (toast.textContent = ''), isError ? 8000 : 4000);
    toast.textContent = text;
    toast.classList.toggle('error', isError);
    toast.setAttribute('role', isError ? 'alert' : 'status');
  }

  function setStream(state: 'live' | 'reconnecting' | 'connecting'): void {
    status.textContent = state === 'live' ? 'Live' : state === 'reconnecting' ? 'Reconnecting…' : 'Connecting…';
    status.dataset.state = state;
    document.documentElement.dataset.stream = state;
  }

  function setWaiting(n: number): void {
    badge.textContent = n ? String(n) : '';
  }

  function parseRoute(): Route {
    const hash = location.hash.replace(/^#/, '');
    if (hash.startsWith('session/')) return { view: 'session', id: decodeURIComponent(hash.slice(8)) };
    return { view: hash === 'requests' || hash === 'history' || hash === 'audit' ? hash : 'now' };
  }

  async function run(label: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
      say(label);
    } catch (e) {
      say(api.isFailure(e) ? e.message : String(e), true);
    }
    scheduleRefresh();
  }

  const actions: NowActions = {
    release: (g) => void run(`Released ${g.role} on ${g.resource}.`, () => api.call('POST', `/api/grants/${encodeURIComponent(g.id)}/release`, {})),
    async revoke(g) {
      const reason = await askText({ title: `Revoke ${g.user}'s ${g.role} on ${g.resource}`, label: 'Reason (the grantee sees it)', confirm: 'Revoke', required: true, danger: true });
      if (reason !== null) await run(`Revoked ${g.user}'s ${g.role} on ${g.resource}.`, () => api.call('POST', `/api/grants/${encodeURIComponent(g.id)}/revoke`, { reason }));
    },
    approve: (r) => void run(`Approved ${r.user}'s request.`, () => api.call('POST', `/api/requests/${encodeURIComponent(r.id)}/approve`, {})),
    async deny(r) {
      const comment = await askText({ title: `Deny ${r.user}'s request for ${r.role} on ${r.resource}`, label: 'Comment (the requester sees it)', confirm: 'Deny', required: true, danger: true });
      if (comment !== null) await run(`Denied ${r.user}'s request.`, () => api.call('POST', `/api/requests/${encodeURIComponent(r.id)}/deny`, { comment }));
    },
    cancel: (r) => void run('Request cancelled.', () => api.call('POST', `/api/requests/${encodeURIComponent(r.id)}/cancel`, {})),
  };

  async function loadNow(): Promise<Node> {
    const data = await api.call<NowData>('GET', '/api/dashboard/now');
    skewMs = new Date(data.now).getTime() - Date.now();
    setWaiting(data.waiting);
    return nowView.renderNow(data.grants, data.waiting, serverNow(), actions);
  }

  async function loadRequests(): Promise<Node> {
    const requests = await api.call<RequestRow[]>('GET', '/api/requests');
    setWaiting(requests.filter((r) => r.can_review).length);
    return nowView.renderRequests(requests, me!, serverNow(), actions);
  }

  const after = (iso: string | null, since: string) => !sinceMs[since] || (iso !== null && new Date(iso).getTime() >= serverNow() - sinceMs[since]!);

  async function loadHistory(): Promise<Node> {
    const f = historyFilters;
    const grants = await api.call<GrantView[]>('GET', `/api/grants${api.q({ all: me!.admin ? 'true' : undefined, user: me!.admin ? f.user : undefined, resource: f.resource, state: f.state })}`);
    const sessions = await api.call<SessionView[]>('GET', `/api/sessions${api.q({ user: f.user || (me!.admin ? undefined : me!.user), limit: '500' })}`);
    const shownSessions = sessions.filter((s) => (!f.resource || s.resource === f.resource) && after(s.started_at, f.since));
    return h(
      'div',
      {},
      h('h2', {}, 'Grants'),
      historyView.grantsTable(grants.filter((g) => (!f.user || g.user === f.user) && after(g.starts_at, f.since))),
      h('h2', {}, 'Sessions'),
      historyView.sessionsTable(shownSessions),
    );
  }

  async function loadAudit(): Promise<Node> {
    const f = auditFilters;
    const events = await api.call<AuditEvent[]>('GET', `/api/audit${api.q({ user: f.user, resource: f.resource, action: f.action, since: f.since, limit: '300' })}`);
    return historyView.auditTable(events);
  }

  async function loadSession(id: string): Promise<Node> {
    const data = await api.call<{ session: SessionView; events: AuditEvent[] }>('GET', `/api/sessions/${encodeURIComponent(id)}`);
    return historyView.renderSession(data.session, data.events);
  }

  /** The area live updates replace; filter forms and the verify badge stay put around it. */
  let results: HTMLElement = h('div');

  async function loadResults(): Promise<void> {
    const r = route;
    try {
      const node =
        r.view === 'session' ? await loadSession(r.id) : r.view === 'requests' ? await loadRequests() : r.view === 'history' ? await loadHistory() : r.view === 'audit' ? await loadAudit() : await loadNow();
      if (r === route) results.replaceChildren(node);
    } catch (e) {
      if (api.isFailure(e) && e.status === 401) return signedOut();
      if (r === route) results.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, api.isFailure(e) ? e.message : String(e)));
    }
    dom.tick(content, serverNow());
  }

  const verifyHolder = h('div', { class: 'verify-holder' });

  async function checkChain(): Promise<void> {
    verify = null;
    verifyHolder.replaceChildren(historyView.verifyBadge(null));
    try {
      verify = await api.call<VerifyResult>('GET', '/api/audit/verify');
    } catch (e) {
      verify = { ok: false, events: 0, firstBadSeq: 0, problem: api.isFailure(e) ? e.message : String(e) };
    }
    verifyHolder.replaceChildren(historyView.verifyBadge(verify), h('button', { type: 'button', class: 'secondary', onclick: () => void checkChain() }, 'Verify again'));
  }
  function show(): void {
    route = parseRoute();
    for (const a of Array.from(nav.querySelectorAll('a'))) {
      const current = a.getAttribute('href') === `#${route.view}` || (route.view === 'session' && a.getAttribute('href') === '#history');
      if (current) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    results = h('div', { class: 'results', 'aria-busy': 'false' });
    if (route.view === 'history') {
      content.replaceChildren(
        h('h1', {}, 'History'),
        historyView.filterForm('history', historyFilters, (f) => {
          historyFilters = f;
          void loadResults();
        }),
        results,
      );
    } else if (route.view === 'audit') {
      content.replaceChildren(
        h('h1', {}, 'Audit log'),
        verifyHolder,
        historyView.filterForm('audit', auditFilters, (f) => {
          auditFilters = f;
          void loadResults();
        }),
        results,
      );
      void checkChain();
    } else {
      content.replaceChildren(results);
    }
    void loadResults();
  }

  let refreshTimer: ReturnType<typeof setTimeout> | null = null;
  let refreshing: Promise<void> | null = null;
  let dirty = false;
  /** Coalesces bursts (a busy session writes many statements) into at most one refetch per 150 ms. */
  function scheduleRefresh(): void {
    if (refreshTimer) return;
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      if (refreshing) {
        dirty = true;
        return;
      }
      refreshing = loadResults().finally(() => {
        refreshing = null;
        if (dirty) {
          dirty = false;
          scheduleRefresh();
        }
      });
    }, 150);
  }

  function connect(): void {
    source?.close();
    setStream('connecting');
    const es = new EventSource(lastEventId ? `/api/events?after=${encodeURIComponent(lastEventId)}` : '/api/events');
    source = es;
    const onEvent = (e: Event) => {
      const id = (e as MessageEvent).lastEventId;
      if (id) lastEventId = id;
      setStream('live');
      scheduleRefresh();
    };
    for (const type of ['hello', 'change', 'reset']) es.addEventListener(type, onEvent);
    es.onerror = () => {
      if (source !== es) return;
      setStream('reconnecting');
      // The browser retries by itself (sending Last-Event-ID) unless the server refused; then we retry, resuming by hand.
      if (es.readyState === EventSource.CLOSED) setTimeout(() => source === es && connect(), 2000);
    };
  }

  function signedOut(): void {
    source?.close();
    source = null;
    me = null;
    const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false', 'aria-describedby': 'token-hint' }) as HTMLInputElement;
    const error = h('p', { class: 'form-error', role: 'alert' });
    const form = h(
      'form',
      {
        class: 'signin',
        onsubmit: (e: Event) => {
          e.preventDefault();
          api.login(input.value).then(signedIn, (err: unknown) => {
            error.textContent = api.isFailure(err) ? err.message : String(err);
          });
        },
      },
      h('h1', {}, 'Sign in to Airlock'),
      h('label', { for: 'token' }, 'Personal API token'),
      input,
      h('p', { id: 'token-hint', class: 'muted small' }, 'Get one on the server host with: airlock tokens issue YOUR-NAME'),
      error,
      h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    );
    const provider = h('div', { class: 'signin-provider' });
    root.replaceChildren(h('div', { class: 'signin-page' }, h('p', { class: 'brand' }, 'Airlock'), provider, form));
    input.focus();
    // People sign in with the company's identity provider when one is configured; the token form stays for machines.
    api.call<{ enabled: boolean; display_name: string | null }>('GET', '/auth/oidc').then(
      (p) => {
        if (!p.enabled) return;
        provider.replaceChildren(
          h('a', { class: 'button primary', href: '/auth/oidc/start' }, `Sign in with ${p.display_name ?? 'your identity provider'}`),
          h('p', { class: 'muted small' }, 'or with an API token:'),
        );
      },
      () => undefined,
    );
  }

  function signedIn(who: Me): void {
    me = who;
    nav.replaceChildren(
      h('a', { href: '#now' }, 'Now'),
      h('a', { href: '#requests' }, 'Requests', badge),
      h('a', { href: '#history' }, 'History'),
      h('a', { href: '#audit' }, 'Audit'),
    );
    const signOut = h('button', { type: 'button', class: 'link', onclick: () => void api.logout().finally(signedOut) }, 'Sign out');
    root.replaceChildren(
      h('header', { class: 'top' }, h('span', { class: 'brand' }, 'Airlock'), nav, h('div', { class: 'who' }, status, h('span', { class: 'me' }, who.user, who.admin ? ' (admin)' : ''), signOut)),
      content,
      toast,
    );
    connect();
    show();
  }

  window.addEventListener('hashchange', () => me && show());
  setInterval(() => dom.tick(content, serverNow()), 1000);
  api.session().then((who) => (who ? signedIn(who) : signedOut()), () => signedOut());
}

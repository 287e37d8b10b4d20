import type { Api } from './api.js';
import type { AskView } from './ask-view.js';
import type { ConnectActions, ConnectView } from './connect-view.js';
import type { AuditView } from './audit-view.js';
import type { AskText } from './dialog.js';
import type { Dom } from './dom.js';
import type { Filters, HistoryView } from './history-view.js';
import type { EndNotice, NowActions, NowView } from './now-view.js';
import type { ReviewActions, ReviewView } from './review-view.js';
import type { SignInView } from './sign-in-view.js';
import type { AuditEvent, GrantPage, GrantView, Me, NowData, NowGrant, Requestable, RequestsData, SessionView, VerifyResult } from './types.js';

type Route = { view: 'now' | 'ask' | 'requests' | 'history' | 'audit' } | { view: 'session' | 'grant'; id: string };

export interface Views {
  now: NowView;
  history: HistoryView;
  ask: AskView;
  review: ReviewView;
  connect: ConnectView;
  audit: AuditView;
  signIn: SignInView;
}

/**
 * The dashboard's controller (browser-side; see dom.ts): sign-in, hash
 * routing, one EventSource, and a refetch of the current view whenever the
 * stream says something changed. Snapshots come from the same API the CLI
 * uses; the stream only says "changed since seq N", so a missed or repeated
 * event can never leave the page showing something the API would not.
 */
export function appMain(dom: Dom, api: Api, askText: AskText, views: Views): void {
  const { h } = dom;
  const { now: nowView, history: historyView, ask: askView, review: reviewView, connect: connectView } = views;
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
  /** Grants whose Connect panel is open, and the secrets issued in this page (memory only, never stored). */
  const connectOpen = new Set<string>();
  const secrets = new Map<string, string>();
  /** Review comments being typed, by request id: a live refresh re-renders the cards but keeps the words. */
  const comments = new Map<string, string>();
  /** The grants the Now view showed last, to say who ended one that disappears, and the notices saying so. */
  let shownGrants = new Map<string, NowGrant>();
  let notices: EndNotice[] = [];
  /** The request this page sent last: the Ask view follows it live. */
  let lastAsked: string | null = null;
  let lastRequestsJson = '';

  let toastTimer: ReturnType<typeof setTimeout> | undefined;
  function say(text: string, isError = false): void {
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (toast.textContent = ''), isError ? 8000 : 4000);
    toast.textContent = dom.visible(text);
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
    if (hash.startsWith('grant/')) return { view: 'grant', id: decodeURIComponent(hash.slice(6)) };
    return { view: hash === 'ask' || hash === 'requests' || hash === 'history' || hash === 'audit' ? hash : 'now' };
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

  const grantPath = (g: { id: string }, what: string) => `/api/grants/${encodeURIComponent(g.id)}/${what}`;
  const requestPath = (r: { id: string }, what: string) => `/api/requests/${encodeURIComponent(r.id)}/${what}`;

  const actions: NowActions = {
    release: (g) => void run(`Released ${g.role} on ${g.resource}.`, () => api.call('POST', grantPath(g, 'release'), {})),
    async revoke(g) {
      const reason = await askText({ title: `Revoke ${g.user}'s ${g.role} on ${g.resource}`, label: 'Reason (the grantee sees it)', confirm: 'Revoke', required: true, danger: true });
      if (reason !== null) await run(`Revoked ${g.user}'s ${g.role} on ${g.resource}.`, () => api.call('POST', grantPath(g, 'revoke'), { reason }));
    },
    toggleConnect(g) {
      if (connectOpen.has(g.id)) connectOpen.delete(g.id);
      else connectOpen.add(g.id);
      void loadResults();
    },
  };

  const connectActions: ConnectActions = {
    issueSecret: (g) =>
      void run('A new grant secret was issued; it is shown once.', async () => {
        const { secret } = await api.call<{ secret: string }>('POST', grantPath(g, 'credentials'), {});
        secrets.set(g.id, secret);
      }),
    copy(text) {
      navigator.clipboard?.writeText(text).then(() => say('Copied.'), () => say('Select the text and copy it.', true));
    },
  };

  const reviewActions: ReviewActions = {
    approve: (r, comment) =>
      void run(`Approved ${r.user}'s request.`, async () => {
        await api.call('POST', requestPath(r, 'approve'), comment ? { comment } : {});
        comments.delete(r.id);
      }),
    deny: (r, comment) =>
      void run(`Denied ${r.user}'s request.`, async () => {
        await api.call('POST', requestPath(r, 'deny'), { comment });
        comments.delete(r.id);
      }),
    cancel: (r) => void run('Request cancelled.', () => api.call('POST', requestPath(r, 'cancel'), {})),
  };

  /** A grant the Now view showed is gone: say who ended it and why, instead of letting the row just vanish. */
  async function noticeEnded(g: NowGrant): Promise<void> {
    const ended = await api.call<GrantView>('GET', `/api/grants/${encodeURIComponent(g.id)}`).catch(() => null);
    const text = nowView.endedText(g, ended);
    notices = [{ id: g.id, text }, ...notices.filter((n) => n.id !== g.id)].slice(0, 5);
  }

  async function loadNow(): Promise<Node> {
    const data = await api.call<NowData>('GET', '/api/dashboard/now');
    skewMs = new Date(data.now).getTime() - Date.now();
    setWaiting(data.waiting);
    const current = new Map(data.grants.map((g) => [g.id, g]));
    for (const [id, g] of shownGrants) if (!current.has(id)) await noticeEnded(g);
    shownGrants = current;
    const connectFor = (g: NowGrant) => (connectOpen.has(g.id) && g.user === me!.user ? connectView.connectPanel(g, data.kinds[g.resource] ?? null, data.gateways[data.kinds[g.resource] ?? ''], secrets.get(g.id) ?? null, connectActions) : null);
    const dismiss = (id: string) => {
      notices = notices.filter((n) => n.id !== id);
      void loadResults();
    };
    return nowView.renderNow(data, me!.user, serverNow(), actions, notices, dismiss, connectFor);
  }

  /** Null when nothing changed: a reviewer's half-typed comment and focus stay exactly where they are. */
  async function loadRequests(): Promise<Node | null> {
    const data = await api.call<RequestsData>('GET', '/api/dashboard/requests');
    setWaiting(data.to_review.length);
    const json = JSON.stringify(data);
    if (json === lastRequestsJson && results.childElementCount) return null;
    lastRequestsJson = json;
    return reviewView.renderRequests(data, me!, serverNow(), reviewActions, comments);
  }

  async function loadAsk(): Promise<Node> {
    const data = await api.call<RequestsData>('GET', '/api/dashboard/requests');
    setWaiting(data.to_review.length);
    // The request sent from this page, else (after a reload) the latest one still waiting.
    const followed = data.mine.find((r) => r.id === lastAsked) ?? data.mine.find((r) => r.state === 'pending') ?? null;
    const others = data.mine.filter((r) => r !== followed).slice(0, 5);
    return h(
      'div',
      {},
      followed ? askView.progress(followed, serverNow(), reviewActions.cancel) : null,
      h('h2', {}, 'Your recent requests'),
      others.length
        ? h('ul', { class: 'recent-requests' }, others.map((r) => h('li', { 'data-request-id': r.id }, h('span', { class: `role role-${r.role}` }, r.role), ` ${r.resource} for ${r.duration}: `, askView.progressText(r))))
        : h('p', { class: 'empty' }, 'None yet.'),
    );
  }

  async function loadGrant(id: string): Promise<Node> {
    return historyView.renderGrant(await api.call<GrantPage>('GET', `/api/dashboard/grants/${encodeURIComponent(id)}`), serverNow());
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
      historyView.sessionsTable(shownSessions, new Map(grants.map((g) => [g.id, [g.ticket, g.reason].filter(Boolean).join(' ')]))),
    );
  }

  const auditQuery = (limit: string) => {
    const f = auditFilters;
    return `/api/audit${api.q({ user: f.user, resource: f.resource, action: f.action, since: f.since, limit })}`;
  };
  /** Audit rows the viewer opened stay open across live refreshes. */
  const expanded = new Set<number>();

  async function loadAudit(): Promise<Node> {
    return views.audit.auditTable(await api.call<AuditEvent[]>('GET', auditQuery('300')), expanded);
  }

  /** The filtered trail as a file: what the viewer may see, up to 10,000 events. */
  async function exportAudit(format: 'json' | 'csv'): Promise<void> {
    const events = await api.call<AuditEvent[]>('GET', auditQuery('10000'));
    views.audit.download(events, format);
  }

  async function loadSession(id: string): Promise<Node> {
    const data = await api.call<{ session: SessionView; events: AuditEvent[] }>('GET', `/api/sessions/${encodeURIComponent(id)}`);
    const grant = await api.call<GrantView>('GET', `/api/grants/${encodeURIComponent(data.session.grant_id)}`).catch(() => null);
    return historyView.renderSession(data.session, data.events, grant);
  }

  /** The area live updates replace; filter forms and the verify badge stay put around it. */
  let results: HTMLElement = h('div');

  /** A live refresh must not throw the keyboard user back to the top: focus returns to the element with the same id. */
  function replaceKeepingFocus(area: HTMLElement, node: Node): void {
    const active = document.activeElement as HTMLElement | null;
    const id = active && area.contains(active) ? active.id : '';
    area.replaceChildren(node);
    if (id) document.getElementById(id)?.focus();
  }

  async function loadResults(): Promise<void> {
    const r = route;
    try {
      const node =
        r.view === 'session' ? await loadSession(r.id)
        : r.view === 'grant' ? await loadGrant(r.id)
        : r.view === 'requests' ? await loadRequests()
        : r.view === 'ask' ? await loadAsk()
        : r.view === 'history' ? await loadHistory()
        : r.view === 'audit' ? await loadAudit()
        : await loadNow();
      if (r === route && node) replaceKeepingFocus(results, node);
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
      const current = a.getAttribute('href') === `#${route.view}` || ((route.view === 'session' || route.view === 'grant') && a.getAttribute('href') === '#history');
      if (current) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    results = h('div', { class: 'results', 'aria-busy': 'false' });
    lastRequestsJson = '';
    if (route.view === 'ask') {
      const formHolder = h('div', { class: 'ask-holder' }, h('p', { class: 'muted' }, 'Loading what you may ask for…'));
      content.replaceChildren(formHolder, results);
      api.call<Requestable[]>('GET', '/api/resources').then(
        (rows) =>
          formHolder.replaceChildren(
            askView.askForm(rows, async (a) => {
              const o = await api.call<{ request: { id: string; state: string }; grant: unknown }>('POST', '/api/requests', { ...a, reason: a.reason || null, ticket: a.ticket || null });
              lastAsked = o.request.id;
              say(o.grant ? 'Access granted.' : 'Request sent; it waits for a reviewer.');
              void loadResults();
            }),
          ),
        (e: unknown) => formHolder.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, api.isFailure(e) ? e.message : String(e))),
      );
    } else if (route.view === 'history') {
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
        views.audit.actionList(),
        historyView.filterForm('audit', auditFilters, (f) => {
          auditFilters = f;
          void loadResults();
        }),
        h(
          'div',
          { class: 'export' },
          h('button', { type: 'button', class: 'secondary', onclick: () => void exportAudit('json').catch((e: unknown) => say(api.isFailure(e) ? e.message : String(e), true)) }, 'Export JSON'),
          h('button', { type: 'button', class: 'secondary', onclick: () => void exportAudit('csv').catch((e: unknown) => say(api.isFailure(e) ? e.message : String(e), true)) }, 'Export CSV'),
        ),
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
    // Secrets and typed comments belong to the person who was signed in.
    secrets.clear();
    comments.clear();
    connectOpen.clear();
    source?.close();
    source = null;
    me = null;
    root.replaceChildren(views.signIn.renderSignIn(signedIn));
  }

  function signedIn(who: Me): void {
    me = who;
    nav.replaceChildren(
      h('a', { href: '#now' }, 'Now'),
      h('a', { href: '#ask' }, 'Ask'),
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

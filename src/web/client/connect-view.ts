import type { Dom } from './dom.js';
import type { Gateway, NowGrant } from './types.js';

export interface ConnectActions {
  /** Asks the server for a fresh grant secret (POST /api/grants/:id/credentials). */
  issueSecret(g: NowGrant): void;
  copy(text: string): void;
}

/**
 * What the owner of a grant needs to connect (browser-side; see dom.ts): the
 * CLI command, and on demand the grant secret — as a DSN for SQL resources,
 * or for an HTTP resource an Open link to its own origin on the gateway
 * (`<resource>.<public_host>:<port>`), whose `/.airlock/sign-in` page takes
 * the Airlock user and the grant secret and sets that origin's grant cookie.
 * The dashboard cannot sign in there for the user: the gateway accepts the
 * form only from its own origin, which is what keeps other sites out.
 */
export function connectViewModule(dom: Dom) {
  const { h } = dom;

  function copyable(label: string, text: string, act: ConnectActions, id: string) {
    return h(
      'div',
      { class: 'copyable' },
      h('span', { class: 'copy-label', id: `${id}-label` }, label),
      h('code', { class: 'mono', id, 'aria-labelledby': `${id}-label` }, text),
      h('button', { type: 'button', class: 'secondary small', onclick: () => act.copy(text), 'aria-label': `Copy ${label.toLowerCase()}` }, 'Copy'),
    );
  }

  /** `http://orders-api.localhost:15480/`: the resource's own origin on the HTTP gateway. */
  function httpOrigin(resource: string, gw: Gateway): string {
    return `http://${resource}.${gw.host}:${gw.port}/`;
  }

  function dsn(kind: string, user: string, resource: string, gw: Gateway, secret: string): string {
    const scheme = kind === 'mysql' ? 'mysql' : 'postgresql';
    return `${scheme}://${encodeURIComponent(user)}:${encodeURIComponent(secret)}@${gw.host}:${gw.port}/${encodeURIComponent(resource)}`;
  }

  function connectPanel(g: NowGrant, kind: string | null, gw: Gateway | undefined, secret: string | null, act: ConnectActions): HTMLElement {
    const id = `c-${g.id}`;
    const parts: HTMLElement[] = [copyable('Command', `airlock connect ${g.resource}`, act, `${id}-cmd`)];
    if (!gw || !kind) {
      parts.push(h('p', { class: 'muted' }, `No ${kind ?? ''} gateway is running for ${g.resource}; ask the operator to add gateway.${kind ?? 'KIND'} to the server's config.`));
    } else if (kind === 'http') {
      const origin = httpOrigin(g.resource, gw);
      parts.push(
        h(
          'p',
          { class: 'open-line' },
          h('a', { class: 'button primary', href: `${origin}.airlock/sign-in`, target: '_blank', rel: 'noopener noreferrer', 'data-open': g.resource }, `Open ${g.resource}`),
          ' ',
          h('span', { class: 'muted small' }, `signs in at ${origin}.airlock/sign-in as `, h('strong', {}, g.user), ' with the grant secret'),
        ),
      );
      parts.push(secret ? copyable('Grant secret', secret, act, `${id}-secret`) : issueButton(g, 'Show the grant secret', act));
    } else {
      parts.push(secret ? copyable('DSN', dsn(kind, g.user, g.resource, gw, secret), act, `${id}-dsn`) : issueButton(g, 'Show a DSN', act));
    }
    parts.push(h('p', { class: 'muted small' }, 'A secret is shown once; asking again issues a new one, which replaces it for new connections (open ones stay).'));
    return h('div', { class: 'connect', role: 'group', 'aria-label': `Connect to ${g.resource}` }, parts);
  }

  function issueButton(g: NowGrant, label: string, act: ConnectActions) {
    return h('p', {}, h('button', { type: 'button', class: 'secondary', onclick: () => act.issueSecret(g) }, label));
  }

  return { connectPanel, httpOrigin };
}

export type ConnectView = ReturnType<typeof connectViewModule>;

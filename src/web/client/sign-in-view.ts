import type { Api } from './api.js';
import type { Dom } from './dom.js';
import type { Me } from './types.js';

/**
 * The sign-in page (browser-side; see dom.ts): the identity provider's
 * button when one is configured, and the API-token form, which stays for
 * machines and small setups.
 */
export function signInViewModule(dom: Dom, api: Api) {
  const { h } = dom;

  function renderSignIn(signedIn: (me: Me) => void): HTMLElement {
    const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false', 'aria-describedby': 'token-hint' }) as HTMLInputElement;
    const error = h('p', { class: 'form-error', role: 'alert' });
    const form = h(
      'form',
      {
        class: 'signin',
        onsubmit: (e: Event) => {
          e.preventDefault();
          api.login(input.value).then(signedIn, (err: unknown) => {
            error.textContent = dom.visible(api.isFailure(err) ? err.message : String(err));
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
    const page = h('div', { class: 'signin-page' }, h('p', { class: 'brand' }, 'Airlock'), provider, form);
    queueMicrotask(() => input.focus());
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
    return page;
  }

  return { renderSignIn };
}

export type SignInView = ReturnType<typeof signInViewModule>;

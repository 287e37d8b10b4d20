import type { Attrs, Child } from './types.js';

/**
 * DOM building and time formatting for the dashboard. Runs in the browser:
 * the server serves this function's source (see web/script.ts), so it may use
 * only its parameters and browser globals, never a module import.
 *
 * Every piece of text becomes a Text node, never HTML: a reason like
 * `<img src=x onerror=alert(1)>` shows as those characters.
 */
export function domModule() {
  function h(tag: string, attrs: Attrs = {}, ...children: (Child | Child[])[]): HTMLElement {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (typeof value === 'function') {
        if (!key.startsWith('on')) throw new Error(`attribute ${key} cannot be a function`);
        el.addEventListener(key.slice(2).toLowerCase(), value);
      } else if (key.startsWith('on')) {
        throw new Error(`inline handler ${key} refused`);
      } else {
        el.setAttribute(key, value === true ? '' : String(value));
      }
    }
    append(el, children);
    return el;
  }

  function append(el: Node, children: readonly (Child | Child[])[]): void {
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
  }

  const pad = (n: number) => String(n).padStart(2, '0');

  /** `1:04:09`, always H:MM:SS, so the cell keeps one width as it counts down. */
  function remaining(expiresAt: string, nowMs: number): string {
    const s = Math.max(0, Math.floor((new Date(expiresAt).getTime() - nowMs) / 1000));
    return `${Math.floor(s / 3600)}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
  }

  /** Local wall-clock time `14:32:05`, with the date when it is not today. */
  function clock(iso: string | null): string {
    if (!iso) return '—';
    const d = new Date(iso);
    const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    return d.toDateString() === new Date().toDateString() ? time : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
  }

  function ago(iso: string | null, nowMs: number): string {
    if (!iso) return '';
    const s = Math.round((nowMs - new Date(iso).getTime()) / 1000);
    if (s < 60) return 'just now';
    if (s < 3600) return `${Math.floor(s / 60)}m ago`;
    if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m ago`;
    return `${Math.floor(s / 86400)}d ago`;
  }

  /** A <time> element: readable text, machine value, and the exact ISO time on hover. */
  function time(iso: string | null, text = clock(iso)): HTMLElement {
    return h('time', { datetime: iso ?? undefined, title: iso ?? undefined }, text);
  }

  /** Rewrites every live countdown in place: text only, so nothing around it moves. */
  function tick(root: ParentNode, nowMs: number): void {
    for (const el of Array.from(root.querySelectorAll<HTMLElement>('[data-expires]'))) {
      const text = remaining(el.dataset.expires ?? '', nowMs);
      if (el.textContent !== text) el.textContent = text;
      const left = new Date(el.dataset.expires ?? '').getTime() - nowMs;
      el.classList.toggle('ending', left < 5 * 60_000);
    }
  }

  return { h, append, remaining, clock, ago, time, tick };
}

export type Dom = ReturnType<typeof domModule>;

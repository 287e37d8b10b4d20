import type { Attrs, Child } from './types.js';

/**
 * DOM building and time formatting for the dashboard. Runs in the browser:
 * the server serves this function's source (see web/script.ts), so it may use
 * only its parameters and browser globals, never a module import.
 *
 * Every piece of text becomes a Text node, never HTML: a reason like
 * `<img src=x onerror=alert(1)>` shows as those characters. And every piece
 * of text goes through `visible` on its way in, so characters that could
 * mislead a reviewer (a right-to-left override that reverses what follows,
 * control characters, NUL, zero-width marks) show as marked escapes in every
 * view, not as whatever they would make the text look like.
 */
export function domModule() {
  // Bidi controls, zero-width and invisible formatting marks, C0/C1 controls (not tab and newline: statements keep their lines).
  // eslint-disable-next-line no-control-regex -- matching control characters is the point: they are what gets escaped.
  const HIDDEN = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u00AD\u061C\u180E\u200B-\u200F\u2028-\u202E\u2060-\u206F\uFEFF\uFFF9-\uFFFB]/g;
  const escapeOf = (c: string) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;

  /** The one escaping rule: each hidden character becomes its visible `\uXXXX` form. */
  function visible(text: string): string {
    return text.replace(HIDDEN, escapeOf);
  }

  /** Text as nodes: plain runs as Text, each escape in a marked span so it stands out. */
  function textNodes(text: string): Node[] {
    // test() on a global pattern moves lastIndex, and matchAll starts from it: reset after, or the first match is skipped.
    HIDDEN.lastIndex = 0;
    const any = HIDDEN.test(text);
    HIDDEN.lastIndex = 0;
    if (!any) return [document.createTextNode(text)];
    const out: Node[] = [];
    let last = 0;
    for (const m of text.matchAll(HIDDEN)) {
      if (m.index > last) out.push(document.createTextNode(text.slice(last, m.index)));
      const mark = document.createElement('span');
      mark.className = 'escaped';
      mark.title = 'hidden character shown escaped';
      mark.textContent = escapeOf(m[0]);
      out.push(mark);
      last = m.index + m[0].length;
    }
    if (last < text.length) out.push(document.createTextNode(text.slice(last)));
    return out;
  }

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
        // Form values round-trip what the viewer typed; every other attribute (title, aria-label…) is shown text.
        el.setAttribute(key, value === true ? '' : key === 'value' || key === 'href' ? String(value) : visible(String(value)));
      }
    }
    append(el, children);
    return el;
  }

  function append(el: Node, children: readonly (Child | Child[])[]): void {
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      if (typeof c === 'string' || typeof c === 'number') for (const n of textNodes(String(c))) el.appendChild(n);
      else el.appendChild(c);
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

  /**
   * An end time with its date and zone in the viewer's zone (`Nov 29, 20:30 CET`), the UTC instant on hover:
   * a countdown alone does not say whether "until 9:00" is tonight or tomorrow.
   */
  function endsAt(iso: string | null): HTMLElement {
    if (!iso) return h('span', {}, '—');
    const d = new Date(iso);
    const text = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' }).format(d);
    return h('time', { class: 'ends-at', datetime: iso, title: `${iso.slice(0, 19).replace('T', ' ')} UTC` }, text);
  }

  /** Seconds in `90s`, `15m`, `1h30m`, `2d` (the server's duration syntax); null when it is not one. */
  function parseDuration(text: string): number | null {
    const t = text.trim();
    if (!/^(\d+[smhd])+$/.test(t)) return null;
    const unit: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
    let total = 0;
    for (const m of t.matchAll(/(\d+)([smhd])/g)) total += Number(m[1]) * unit[m[2]!]!;
    return total > 0 ? total : null;
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

  return { h, append, visible, remaining, clock, ago, time, tick, endsAt, parseDuration };
}

export type Dom = ReturnType<typeof domModule>;

import type { Dom } from './dom.js';

/**
 * Asks for a comment or reason in a modal <dialog> that lives outside the
 * re-rendered content, so live updates never wipe what someone is typing.
 */
export function dialogModule(dom: Dom) {
  return function askText(opts: { title: string; label: string; confirm: string; required: boolean; danger?: boolean }): Promise<string | null> {
    return new Promise((resolve) => {
      const input = dom.h('textarea', { id: 'ask-text', rows: 3, maxlength: 2000, required: opts.required }) as HTMLTextAreaElement;
      const error = dom.h('p', { class: 'form-error', role: 'alert' });
      const dialog = dom.h('dialog', { 'aria-labelledby': 'ask-title' }) as HTMLDialogElement;
      const done = (value: string | null) => {
        dialog.close();
        dialog.remove();
        resolve(value);
      };
      const form = dom.h(
        'form',
        {
          method: 'dialog',
          onsubmit: (e: Event) => {
            e.preventDefault();
            const value = input.value.trim();
            if (opts.required && !value) {
              error.textContent = `${opts.label} is required.`;
              input.focus();
              return;
            }
            done(value);
          },
        },
        dom.h('h2', { id: 'ask-title' }, opts.title),
        dom.h('label', { for: 'ask-text' }, opts.label),
        input,
        error,
        dom.h(
          'div',
          { class: 'dialog-actions' },
          dom.h('button', { type: 'button', class: 'secondary', onclick: () => done(null) }, 'Cancel'),
          dom.h('button', { type: 'submit', class: opts.danger ? 'danger' : 'primary' }, opts.confirm),
        ),
      );
      dialog.appendChild(form);
      dialog.addEventListener('cancel', () => resolve(null));
      document.body.appendChild(dialog);
      dialog.showModal();
      input.focus();
    });
  };
}

export type AskText = ReturnType<typeof dialogModule>;

import { apiModule } from './client/api.js';
import { appMain } from './client/app.js';
import { askViewModule } from './client/ask-view.js';
import { auditViewModule } from './client/audit-view.js';
import { connectViewModule } from './client/connect-view.js';
import { dialogModule } from './client/dialog.js';
import { domModule } from './client/dom.js';
import { historyViewModule } from './client/history-view.js';
import { nowViewModule } from './client/now-view.js';
import { reviewViewModule } from './client/review-view.js';
import { signInViewModule } from './client/sign-in-view.js';

/**
 * The dashboard's script, assembled from the client modules' own compiled
 * source. They are written in TypeScript and type-checked with the rest of
 * the code, yet need no bundler: each module is one self-contained function
 * that receives what it uses as parameters (no imports at run time), so its
 * source text runs as-is in the browser. tsc emits them to dist/ like any
 * other file.
 */
export const DASHBOARD_SCRIPT = `'use strict';
(() => {
  const dom = (${domModule.toString()})();
  const api = (${apiModule.toString()})();
  const askText = (${dialogModule.toString()})(dom);
  const views = {
    now: (${nowViewModule.toString()})(dom),
    history: (${historyViewModule.toString()})(dom),
    ask: (${askViewModule.toString()})(dom),
    review: (${reviewViewModule.toString()})(dom),
    connect: (${connectViewModule.toString()})(dom),
    audit: (${auditViewModule.toString()})(dom),
    signIn: (${signInViewModule.toString()})(dom, api),
  };
  (${appMain.toString()})(dom, api, askText, views);
})();
`;

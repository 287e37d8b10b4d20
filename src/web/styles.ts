/**
 * The dashboard's stylesheet. Fixed column widths and tabular digits keep
 * rows still while countdowns tick and updates stream in; colours follow
 * the viewer's light or dark preference.
 */
export const DASHBOARD_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --panel: #fff; --text: #1c2330; --muted: #5d6778; --line: #dfe3ea;
  --accent: #2f5bd3; --accent-text: #fff; --danger: #b3261e; --ok: #1d7a46; --warn: #9a6700;
  --read: #e6effd; --write: #fdf0e1; --admin: #fde7e7;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #14171c; --panel: #1c2027; --text: #e4e7ec; --muted: #9aa3b2; --line: #2d333d;
    --accent: #7aa2ff; --accent-text: #0c1220; --danger: #ff8a80; --ok: #6fd69a; --warn: #f0c36b;
    --read: #1f2d48; --write: #3d2e1b; --admin: #44201f;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); }
a { color: var(--accent); }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.muted { color: var(--muted); }
.small { font-size: 12px; }
.mono, pre, .sql { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; }
.num, .countdown, .count, .badge, time { font-variant-numeric: tabular-nums; }

header.top { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: var(--panel); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 1; }
.brand { font-weight: 700; letter-spacing: .02em; font-size: 16px; }
nav { display: flex; gap: 4px; }
nav a { position: relative; padding: 6px 12px; border-radius: 6px; text-decoration: none; color: var(--text); }
nav a[aria-current="page"] { background: var(--bg); font-weight: 600; }
.badge { position: absolute; top: -4px; right: -6px; min-width: 1.6em; padding: 0 5px; border-radius: 10px; text-align: center; font-size: 11px; line-height: 1.5; }
.badge:empty { display: none; }
.badge:not(:empty) { background: var(--accent); color: var(--accent-text); }
.who { margin-left: auto; display: flex; align-items: center; gap: 16px; }
.stream { display: inline-block; min-width: 8.5em; color: var(--muted); font-size: 12px; }
.stream::before { content: "●"; margin-right: 6px; color: var(--warn); }
.stream[data-state="live"]::before { color: var(--ok); }
.me { font-weight: 600; }

main { max-width: 1280px; margin: 0 auto; padding: 20px 24px 64px; outline: none; }
h1 { font-size: 20px; margin: 4px 0 16px; }
h2 { font-size: 15px; margin: 24px 0 8px; }
.count { display: inline-block; min-width: 2ch; color: var(--muted); font-weight: 500; }
.empty { padding: 24px; background: var(--panel); border: 1px dashed var(--line); border-radius: 8px; color: var(--muted); }
.banner { padding: 8px 12px; border-radius: 6px; background: var(--read); }

table.grid { width: 100%; border-collapse: collapse; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; table-layout: fixed; }
.grid th, .grid td { padding: 8px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; overflow-wrap: anywhere; }
.grid th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 600; }
.grants .col-user { width: 11%; } .grants .col-resource { width: 17%; } .grants .col-why { width: 26%; }
.grants .col-approver { width: 11%; } .grants .col-started { width: 10%; } .grants .col-left { width: 9%; } .grants .col-actions { width: 16%; }
td.countdown { font-size: 15px; font-weight: 600; white-space: nowrap; }
td.countdown.ending { color: var(--danger); }
tr.sessions td { padding-top: 0; background: var(--panel); }
tr.sessions ul { margin: 0; padding: 0 0 0 18px; color: var(--muted); font-size: 13px; }
.role { display: inline-block; margin-left: 8px; padding: 0 6px; border-radius: 4px; font-size: 12px; text-transform: uppercase; background: var(--read); }
.role-write { background: var(--write); } .role-admin { background: var(--admin); }
.ticket { font-weight: 600; margin-right: 2px; }
.refused, .refused-row .outcome { color: var(--danger); }
.state { font-size: 12px; text-transform: uppercase; } .state-active { color: var(--ok); } .state-revoked { color: var(--danger); }
div.actions { display: flex; gap: 6px; justify-content: flex-end; flex-wrap: wrap; }
td.actions { text-align: right; white-space: nowrap; }
td.actions button + button { margin-left: 6px; }
td.details { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; color: var(--muted); }
.audit th:nth-child(1) { width: 6%; } .audit th:nth-child(2) { width: 12%; } .audit th:nth-child(3) { width: 9%; }
.audit th:nth-child(4) { width: 14%; } .audit th:nth-child(5) { width: 16%; }

button { font: inherit; padding: 5px 12px; border-radius: 6px; border: 1px solid var(--line); background: var(--panel); color: var(--text); cursor: pointer; }
button:focus-visible, a:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-text); }
button.danger { color: var(--danger); border-color: var(--danger); }
button.link { border: 0; background: none; color: var(--accent); padding: 0; }

ul.requests { list-style: none; margin: 0; padding: 0; display: grid; gap: 8px; }
li.request { display: flex; gap: 16px; padding: 12px 14px; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; }
.request-main { flex: 1; min-width: 0; } .request-main p { margin: 0 0 4px; overflow-wrap: anywhere; }
li.request .actions { align-self: center; }

form.filters { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-end; margin-bottom: 16px; }
form.filters input, form.filters select, form.filters button { height: 32px; }
.field { display: grid; gap: 4px; } .field label { font-size: 12px; color: var(--muted); }
input, select, textarea { font: inherit; padding: 5px 8px; border: 1px solid var(--line); border-radius: 6px; background: var(--panel); color: var(--text); }
.verify-holder { display: flex; align-items: center; gap: 12px; min-height: 40px; }
.verify { margin: 0; padding: 6px 10px; border-radius: 6px; }
.verify.ok { color: var(--ok); } .verify.bad { color: var(--danger); font-weight: 600; } .verify.pending { color: var(--muted); }

dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0 0 12px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
ol.statements { padding-left: 28px; }
ol.statements li { margin-bottom: 10px; }
.stmt-meta { font-size: 12px; color: var(--muted); }
pre.sql { margin: 2px 0 0; padding: 8px 10px; background: var(--panel); border: 1px solid var(--line); border-radius: 6px; white-space: pre-wrap; overflow-wrap: anywhere; }

.toast { position: fixed; bottom: 16px; left: 50%; transform: translateX(-50%); max-width: 640px; padding: 8px 14px; border-radius: 8px; background: var(--text); color: var(--bg); }
.toast:empty { display: none; }
.toast.error { background: var(--danger); color: #fff; }
.form-error { color: var(--danger); min-height: 1.45em; margin: 4px 0; }

dialog { border: 1px solid var(--line); border-radius: 10px; padding: 20px; width: min(480px, 92vw); background: var(--panel); color: var(--text); }
dialog::backdrop { background: rgb(0 0 0 / .35); }
dialog form { display: grid; gap: 8px; } dialog h2 { margin: 0 0 4px; }
.dialog-actions { display: flex; justify-content: flex-end; gap: 8px; }

.signin-page { max-width: 380px; margin: 12vh auto; padding: 0 16px; }
.signin-page .brand { font-size: 22px; margin-bottom: 16px; }
form.signin { display: grid; gap: 8px; padding: 20px; background: var(--panel); border: 1px solid var(--line); border-radius: 10px; }
form.signin h1 { font-size: 17px; margin: 0 0 8px; }
.signin-provider { display: grid; gap: 6px; margin-bottom: 12px; }
.signin-provider a.button { display: block; background: var(--accent); color: var(--accent-text); text-align: center; padding: 10px; border-radius: 8px; text-decoration: none; }
`;

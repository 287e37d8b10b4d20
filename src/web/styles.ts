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
.grants .col-user { width: 10%; } .grants .col-resource { width: 16%; } .grants .col-why { width: 20%; } .grants .col-ticket { width: 9%; }
.grants .col-approver { width: 10%; } .grants .col-ends { width: 17%; } .grants .col-actions { width: 18%; }
.countdown { font-size: 15px; font-weight: 600; white-space: nowrap; }
.countdown.ending { color: var(--danger); }
td.ends time.ends-at, .extended { display: block; font-size: 12px; color: var(--muted); }
.extended { color: var(--warn); }
.escaped { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .9em; padding: 0 2px; border-radius: 3px; background: var(--admin); color: var(--danger); outline: 1px solid var(--danger); }
ul.notices { list-style: none; margin: 0 0 12px; padding: 0; display: grid; gap: 6px; }
li.notice { display: flex; justify-content: space-between; gap: 12px; padding: 8px 12px; border-radius: 6px; background: var(--write); border-left: 4px solid var(--warn); }
tr.connect-row td { background: var(--bg); }
.connect { display: grid; gap: 8px; }
.copyable { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; }
.copyable code { padding: 4px 8px; background: var(--panel); border: 1px solid var(--line); border-radius: 6px; overflow-wrap: anywhere; }
.copy-label { color: var(--muted); min-width: 6em; }
a.button { display: inline-block; padding: 6px 14px; border-radius: 6px; text-decoration: none; }
a.button.primary { background: var(--accent); color: var(--accent-text); }
button.small { padding: 2px 8px; font-size: 12px; }
form.ask { display: grid; gap: 10px; max-width: 720px; padding: 16px 18px; background: var(--panel); border: 1px solid var(--line); border-radius: 10px; }
form.ask h1 { margin: 0; }
.ask-grid { display: grid; grid-template-columns: 2fr 2fr 1fr; gap: 12px; align-items: start; }
.ask-grid .field { align-content: start; }
form.ask textarea, form.ask input, form.ask select { width: 100%; }
.role-facts { margin: 0; color: var(--muted); font-size: 13px; }
ul.checks { list-style: none; margin: 0; padding: 0; display: grid; gap: 2px; }
.check.ok { color: var(--ok); } .check.bad { color: var(--danger); font-weight: 600; }
section.progress { max-width: 720px; margin-top: 16px; padding: 12px 16px; background: var(--panel); border: 1px solid var(--line); border-radius: 10px; }
section.progress h2 { margin-top: 0; }
ol.steps { display: flex; gap: 8px; list-style: none; padding: 0; margin: 0 0 8px; }
ol.steps li { padding: 2px 10px; border-radius: 12px; border: 1px solid var(--line); color: var(--muted); }
ol.steps li.done { background: var(--read); color: var(--text); }
.progress-denied .progress-state { color: var(--danger); font-weight: 600; }
.progress-approved .progress-state { color: var(--ok); font-weight: 600; }
li.review-card { flex-direction: column; }
li.review-card:focus-visible, li.review-card:focus { outline: 2px solid var(--accent); outline-offset: 2px; }
li.review-card .actions { align-self: stretch; justify-content: flex-start; }
dl.review-facts { font-size: 13px; }
ul.recent, ul.reviews, ul.extensions { margin: 0; padding-left: 18px; }
textarea.comment { width: 100%; }
kbd { font-family: ui-monospace, Menlo, monospace; padding: 0 4px; border: 1px solid var(--line); border-bottom-width: 2px; border-radius: 4px; }
.export { display: flex; gap: 8px; margin: -4px 0 12px; }
tr.event-detail td { background: var(--bg); }
button.expand { font-size: 13px; width: 1.2em; }
details.long summary { cursor: pointer; }
.refused-row td, li.refused-row { background: var(--admin); }
.outcome { font-weight: 600; }
.refusal-reason { color: var(--danger); }
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
.audit th:nth-child(1) { width: 7%; } .audit th:nth-child(2) { width: 10%; } .audit th:nth-child(3) { width: 10%; }
.audit th:nth-child(4) { width: 9%; } .audit th:nth-child(5) { width: 13%; } .audit th:nth-child(6) { width: 15%; }

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

/* Phones: tables become labelled cards, the header wraps, forms stack. */
@media (max-width: 700px) {
  header.top { flex-wrap: wrap; gap: 8px 12px; padding: 8px 12px; }
  nav { order: 3; width: 100%; overflow-x: auto; }
  nav a { padding: 8px 10px; }
  .who { gap: 10px; }
  .stream { min-width: 0; }
  main { padding: 12px 12px 64px; }
  table.grid, table.grid tbody, table.grid tr, table.grid td { display: block; width: 100%; }
  table.grid { border: 0; background: none; }
  table.grid thead, table.grid colgroup { display: none; }
  table.grid tr { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; margin-bottom: 8px; padding: 6px 0; }
  table.grid tr[hidden] { display: none; }
  .grid td { border: 0; padding: 3px 12px; }
  .grid td[data-label]::before { content: attr(data-label); display: block; font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
  td.actions { text-align: left; white-space: normal; padding-top: 8px; }
  td.actions button { min-height: 40px; }
  tr.sessions, tr.connect-row { margin-top: -8px; }
  .ask-grid { grid-template-columns: 1fr; }
  li.request { flex-direction: column; }
  li.request .actions { align-self: stretch; justify-content: flex-start; }
  li.request .actions button { min-height: 40px; flex: 1; }
  form.filters { display: grid; grid-template-columns: 1fr 1fr; }
  dl.facts { grid-template-columns: 1fr; gap: 0; } dl.facts dd { margin-bottom: 6px; }
}
`;

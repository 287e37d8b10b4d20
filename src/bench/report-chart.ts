import type { BenchResults } from './results.js';

/**
 * A hand-written SVG bar chart of throughput ratios to direct (1.0 = as fast
 * as connecting to PostgreSQL). Whiskers show the lowest and highest round;
 * the dashed line is issue 5's 0.85 target. The byte relay's bar is the floor
 * any Node.js proxy sets here, drawn next to Airlock's for reading the gap.
 * The audit and intent bars are on ÷ off of the same gateway, not ÷ direct
 * (issue 9's goal for intents is ≥ 0.90).
 */

interface Bar {
  readonly label: string;
  readonly series: 'airlock' | 'pgbouncer' | 'relay' | 'audit' | 'intents';
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

const COLORS = { airlock: '#2563eb', pgbouncer: '#9ca3af', relay: '#f59e0b', audit: '#16a34a', intents: '#7c3aed' } as const;
const NAMES = { airlock: 'Airlock ÷ direct', pgbouncer: 'PgBouncer (session) ÷ direct', relay: 'Node byte relay ÷ direct', audit: 'Airlock audit on ÷ off', intents: 'Airlock intents on ÷ off' } as const;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function bars(r: BenchResults): { group: string; bars: Bar[] }[] {
  const groups: { group: string; bars: Bar[] }[] = r.throughput.map((t) => ({
    group: t.name,
    bars: (['airlock', 'pgbouncer', 'relay'] as const).flatMap((p): Bar[] => {
      const s = t.ratio[p];
      return s ? [{ label: t.name, series: p, median: s.median, min: s.min, max: s.max }] : [];
    }),
  }));
  for (const a of r.audit) {
    const name = `audit on/off ${a.protocol} c=${a.clients}`;
    groups.push({ group: name, bars: [{ label: name, series: 'audit', median: a.ratio.median, min: a.ratio.min, max: a.ratio.max }] });
  }
  for (const w of r.intents?.workloads ?? []) {
    const name = `intents ${w.name}`;
    groups.push({ group: name, bars: [{ label: name, series: 'intents', median: w.ratio.median, min: w.ratio.min, max: w.ratio.max }] });
  }
  return groups;
}

export function renderChart(r: BenchResults): string {
  const groups = bars(r);
  const barH = 14;
  const gap = 10;
  const left = 210;
  const width = 760;
  const plotW = width - left - 40;
  const top = 56;
  const maxX = Math.max(1.2, ...groups.flatMap((g) => g.bars.map((b) => b.max)));
  const x = (v: number) => left + (Math.max(0, v) / maxX) * plotW;
  let y = top;
  const body: string[] = [];
  for (const g of groups) {
    body.push(`<text x="${left - 8}" y="${y + (g.bars.length * barH) / 2 + 4}" text-anchor="end">${esc(g.group)}</text>`);
    for (const b of g.bars) {
      body.push(`<rect x="${left}" y="${y}" width="${(x(b.median) - left).toFixed(1)}" height="${barH - 2}" fill="${COLORS[b.series]}"/>`);
      body.push(`<line x1="${x(b.min).toFixed(1)}" x2="${x(b.max).toFixed(1)}" y1="${y + barH / 2 - 1}" y2="${y + barH / 2 - 1}" stroke="#111" stroke-width="1"/>`);
      body.push(`<text x="${(x(b.max) + 4).toFixed(1)}" y="${y + barH - 4}" font-size="10">${b.median.toFixed(2)}</text>`);
      y += barH;
    }
    y += gap;
  }
  // Four legend entries fit on a line; the rest wrap below.
  const perLine = 4;
  const legendLines = Math.ceil(Object.keys(NAMES).length / perLine);
  const height = y + 40 + (legendLines - 1) * 18;
  const ticks: string[] = [];
  for (let v = 0; v <= maxX + 1e-9; v += 0.2) {
    ticks.push(`<line x1="${x(v)}" x2="${x(v)}" y1="${top - 6}" y2="${y}" stroke="#e5e7eb"/>`);
    ticks.push(`<text x="${x(v)}" y="${y + 14}" text-anchor="middle" font-size="10">${v.toFixed(1)}</text>`);
  }
  const refs = [
    `<line x1="${x(1)}" x2="${x(1)}" y1="${top - 6}" y2="${y}" stroke="#111"/>`,
    `<line x1="${x(0.85)}" x2="${x(0.85)}" y1="${top - 6}" y2="${y}" stroke="#dc2626" stroke-dasharray="4 3"/>`,
    `<text x="${x(0.85) - 3}" y="${top - 10}" text-anchor="end" font-size="10" fill="#dc2626">target 0.85</text>`,
  ];
  // Four entries do not fit right of the labels' column; the legend starts at the chart's left edge.
  const legendX = (i: number) => 16 + (i % perLine) * 190;
  const legendY = (i: number) => height - 20 - (legendLines - 1 - Math.floor(i / perLine)) * 18;
  const legend = (Object.keys(NAMES) as (keyof typeof NAMES)[]).map(
    (k, i) => `<rect x="${legendX(i)}" y="${legendY(i)}" width="10" height="10" fill="${COLORS[k]}"/><text x="${legendX(i) + 14}" y="${legendY(i) + 9}" font-size="11">${NAMES[k]}</text>`,
  );
  const title = `Throughput relative to a direct connection (pgbench; ${r.meta.mode} run, ${r.meta.rounds} rounds × ${r.meta.secondsPerRun} s, ${r.meta.date.slice(0, 10)})`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="13" font-weight="600">${esc(title)}</text>`,
    ...ticks,
    ...body,
    ...refs,
    ...legend,
    '</svg>',
    '',
  ].join('\n');
}

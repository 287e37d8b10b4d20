/** Prometheus text exposition format 0.0.4: one family per metric, HELP and TYPE first. */
export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface Sample {
  readonly labels?: Readonly<Record<string, string>>;
  readonly value: number;
  /** For histogram series: `_bucket`, `_sum`, `_count`. */
  readonly suffix?: string;
}

export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly samples: readonly Sample[];
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export function renderPrometheus(families: readonly MetricFamily[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels ?? {});
      const text = labels.length ? `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
      out.push(`${f.name}${s.suffix ?? ''}${text} ${formatValue(s.value)}`);
    }
  }
  return out.join('\n') + '\n';
}

/** A cumulative histogram kept in memory; `le` buckets in seconds. */
export function createHistogram(buckets: readonly number[]) {
  const counts = buckets.map(() => 0);
  let sum = 0;
  let count = 0;
  return {
    observe(v: number) {
      buckets.forEach((b, i) => {
        if (v <= b) counts[i]! += 1;
      });
      sum += v;
      count += 1;
    },
    samples(): Sample[] {
      return [
        ...buckets.map((b, i) => ({ suffix: '_bucket', labels: { le: String(b) }, value: counts[i]! })),
        { suffix: '_bucket', labels: { le: '+Inf' }, value: count },
        { suffix: '_sum', value: sum },
        { suffix: '_count', value: count },
      ];
    },
  };
}

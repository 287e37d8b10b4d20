/** Startup parameters that are not settings. */
const NOT_SETTINGS = new Set(['user', 'database', 'options', 'replication']);
const NAME = /^[a-z_][a-z0-9_.]*$/i;

/** Splits a startup `options` string the way PostgreSQL does: on spaces, a backslash keeping the next character. */
function optionWords(options: string): string[] {
  const words: string[] = [];
  let word = '';
  let started = false;
  for (let i = 0; i < options.length; i++) {
    const ch = options[i]!;
    if (ch === '\\' && i + 1 < options.length) {
      word += options[++i];
      started = true;
    } else if (/\s/.test(ch)) {
      if (started) words.push(word);
      word = '';
      started = false;
    } else {
      word += ch;
      started = true;
    }
  }
  if (started) words.push(word);
  return words;
}

/**
 * The settings a startup packet asks for: its plain parameters
 * (application_name, …) and the `-c name=value` / `--name=value` in its
 * `options`, later ones winning, as a PostgreSQL backend applies them.
 */
export function sessionSettings(params: ReadonlyMap<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  const put = (assignment: string) => {
    const eq = assignment.indexOf('=');
    const name = assignment.slice(0, eq).replaceAll('-', '_');
    if (eq > 0 && NAME.test(name)) out.set(name.toLowerCase(), assignment.slice(eq + 1));
  };
  for (const [name, value] of params) if (!NOT_SETTINGS.has(name) && NAME.test(name)) out.set(name.toLowerCase(), value);
  const words = optionWords(params.get('options') ?? '');
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '-c') put(words[++i] ?? '');
    else if (w.startsWith('-c')) put(w.slice(2));
    else if (w.startsWith('--')) put(w.slice(2));
  }
  return out;
}

const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;

/**
 * The statements that take a shared backend from one connection's settings
 * to another's: reset what only the last one had, and set all the next one
 * asked for (a session may have SET one of them since).
 */
export function settingSql(from: ReadonlyMap<string, string>, to: ReadonlyMap<string, string>): string[] {
  const sql: string[] = [];
  for (const name of from.keys()) if (!to.has(name)) sql.push(`reset "${name}"`);
  for (const [name, value] of to) sql.push(`select set_config(${literal(name)}, ${literal(value)}, false)`);
  return sql;
}

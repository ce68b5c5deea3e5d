/**
 * Metric names referenced by PromQL expressions (Prometheus alert rules,
 * Grafana dashboards), and whether a /metrics exposition serves them: for
 * the test that keeps docs/ops/ in step with the server.
 *
 * Not a PromQL parser: it removes what cannot hold a metric name (strings,
 * Grafana variables, label matchers, ranges, `by (…)`-style label lists)
 * and keeps the identifiers that are not followed by `(` (functions and
 * aggregations) and are not keywords.
 */

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/** Metric names in one PromQL expression, in order of first appearance. */
export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ');
  const names = new Set<string>();
  // Not after a word character or a dot: skips the unit of `5m` and the exponent of `1e3`.
  for (const m of stripped.matchAll(/(?<![\w.])([A-Za-z_:][\w:]*)(\s*\()?/g)) {
    if (m[2] !== undefined) continue;
    if (KEYWORDS.has(m[1]!.toLowerCase())) continue;
    names.add(m[1]!);
  }
  return [...names];
}

/** Metric names in a Grafana variable query such as `label_values(metric{…}, label)`. */
export function grafanaQueryMetricNames(query: string): string[] {
  const m = /^\s*label_values\(\s*(.+?)\s*,\s*[\w.]+\s*\)\s*$/.exec(query);
  if (m !== null) return promqlMetricNames(m[1]!);
  // label_values(label) and label_names() name no metric.
  if (/^\s*label_(?:values|names)\(\s*[\w.]*\s*\)\s*$/.test(query)) return [];
  const q = /^\s*query_result\((.*)\)\s*$/.exec(query);
  return promqlMetricNames(q === null ? query : q[1]!);
}

/** The `expr:` values of a Prometheus rule file (plain, quoted, or `|`/`>` block scalars). */
export function ruleFileExprs(yaml: string): string[] {
  const lines = yaml.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)(?:-\s+)?expr:\s*(.*?)\s*$/.exec(lines[i]!);
    if (m === null) continue;
    const indent = m[1]!.length;
    const value = m[2]!;
    if (/^[|>][+-]?$/.test(value)) {
      const block: string[] = [];
      while (i + 1 < lines.length) {
        const next = lines[i + 1]!;
        if (next.trim() !== '' && /^\s*/.exec(next)![0].length <= indent) break;
        block.push(next.trim());
        i++;
      }
      out.push(block.join(' ').trim());
    } else if (/^'.*'$/.test(value)) {
      out.push(value.slice(1, -1).replace(/''/g, "'"));
    } else if (/^".*"$/.test(value)) {
      out.push(JSON.parse(value) as string);
    } else {
      out.push(value);
    }
  }
  return out;
}

/** Every `expr` of a Grafana dashboard's panels, and its variables' queries. */
export function dashboardExprs(dashboard: unknown): { exprs: string[]; queries: string[] } {
  const exprs: string[] = [];
  const queries: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
    } else if (typeof node === 'object' && node !== null) {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'expr' && typeof value === 'string') exprs.push(value);
        else walk(value);
      }
    }
  };
  const d = dashboard as {
    panels?: unknown;
    templating?: { list?: { type?: string; query?: unknown }[] };
  };
  walk(d.panels);
  for (const v of d.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : (v.query as { query?: string }).query;
    if (typeof q === 'string') queries.push(q);
  }
  return { exprs, queries };
}

/** Metric families of a text exposition: name → type, from its `# TYPE` lines. */
export function exposedFamilies(exposition: string): Map<string, string> {
  const families = new Map<string, string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(m[1]!, m[2]!);
  return families;
}

/** Series Prometheus itself adds to every target. */
const SYNTHETIC = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

/**
 * Whether a referenced series name is served: a counter's or gauge's own
 * name; a histogram's `_bucket`, `_sum` or `_count` (never its bare name);
 * a summary's name, `_sum` or `_count`.
 */
export function isServed(name: string, families: ReadonlyMap<string, string>): boolean {
  if (SYNTHETIC.has(name)) return true;
  const type = families.get(name);
  if (type !== undefined) return type !== 'histogram';
  const m = /^(.+)_(bucket|sum|count)$/.exec(name);
  if (m === null) return false;
  const base = families.get(m[1]!);
  if (base === 'histogram') return true;
  return base === 'summary' && m[2] !== 'bucket';
}

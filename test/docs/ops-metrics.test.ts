/**
 * Every metric that docs/ops/tickwire-alerts.yml and
 * docs/ops/tickwire-dashboard.json reference is served on /metrics, under
 * that exact series name (a histogram as `_bucket`, `_sum` or `_count`).
 *
 * The tickwire_bus_* metrics exist only with --nats: they are checked on a
 * node started with --nats pointing at an address nothing listens on (the
 * bus registers its metrics whether or not NATS answers, so no nats-server
 * is needed); every other metric must also be served by a node without
 * --nats. The last tests check the check: a misspelt name, a bare histogram
 * name and a suffix on a counter are reported.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../helpers/nats.js';
import {
  dashboardExprs,
  exposedFamilies,
  grafanaQueryMetricNames,
  isServed,
  promqlMetricNames,
  ruleFileExprs,
} from '../helpers/promql-names.js';
import { type TestServer, httpGet, startServer } from '../helpers/server.js';

const ALERTS = 'docs/ops/tickwire-alerts.yml';
const DASHBOARD = 'docs/ops/tickwire-dashboard.json';

let plain: TestServer;
let withNats: TestServer;
let plainFamilies: Map<string, string>;
let natsFamilies: Map<string, string>;

async function families(ts: TestServer): Promise<Map<string, string>> {
  const res = await httpGet(ts.httpUrl('/metrics'));
  expect(res.status).toBe(200);
  return exposedFamilies(res.body);
}

beforeAll(async () => {
  plain = await startServer();
  withNats = await startServer({ nats: `nats://127.0.0.1:${await freePort()}` });
  plainFamilies = await families(plain);
  natsFamilies = await families(withNats);
});

afterAll(async () => {
  await Promise.all([plain?.stop(), withNats?.stop()]);
});

function alertNames(): string[] {
  const exprs = ruleFileExprs(readFileSync(ALERTS, 'utf8'));
  return [...new Set(exprs.flatMap(promqlMetricNames))];
}

function dashboardNames(): string[] {
  const { exprs, queries } = dashboardExprs(JSON.parse(readFileSync(DASHBOARD, 'utf8')));
  return [
    ...new Set([...exprs.flatMap(promqlMetricNames), ...queries.flatMap(grafanaQueryMetricNames)]),
  ];
}

/** The names among `names` that `fams` does not serve. */
function unserved(names: readonly string[], fams: ReadonlyMap<string, string>): string[] {
  return names.filter((n) => !isServed(n, fams));
}

describe.each([
  ['alert rules', alertNames],
  ['dashboard', dashboardNames],
])('%s', (_, names) => {
  test('reference metrics (the extraction found them)', () => {
    const found = names();
    expect(found.length).toBeGreaterThan(10);
    expect(found).toContain('tickwire_pipeline_latency_seconds_bucket');
    expect(found).toContain('tickwire_bus_pending_bytes');
    expect(found).toContain('tickwire_slow_consumers_closed_total');
    expect(found).toContain('tickwire_ticks_rejected_total');
  });

  test('every metric referenced is served with --nats', () => {
    expect(unserved(names(), natsFamilies)).toEqual([]);
  });

  test('every metric outside the NATS bus is served without --nats too', () => {
    const base = names().filter((n) => !n.startsWith('tickwire_bus_'));
    expect(unserved(base, plainFamilies)).toEqual([]);
  });
});

test('the alert rules: one expr per alert', () => {
  const text = readFileSync(ALERTS, 'utf8');
  const alerts = text.match(/^\s*- alert: \S+/gm) ?? [];
  expect(alerts.length).toBeGreaterThanOrEqual(5);
  expect(ruleFileExprs(text)).toHaveLength(alerts.length);
});

describe('the check itself', () => {
  test('a misspelt name is reported', () => {
    const names = promqlMetricNames('sum by (instance) (rate(tickwire_ticks_recieved_total[5m]))');
    expect(names).toEqual(['tickwire_ticks_recieved_total']);
    expect(unserved(names, natsFamilies)).toEqual(['tickwire_ticks_recieved_total']);
  });

  test('a histogram by its bare name, or a counter with a histogram suffix, is reported', () => {
    expect(
      unserved(
        [
          'tickwire_pipeline_latency_seconds',
          'tickwire_ticks_received_total_count',
          'tickwire_pipeline_latency_seconds_bucket',
          'tickwire_pipeline_latency_seconds_sum',
          'tickwire_pipeline_latency_seconds_count',
        ],
        natsFamilies,
      ),
    ).toEqual(['tickwire_pipeline_latency_seconds', 'tickwire_ticks_received_total_count']);
  });

  test('functions, keywords, label names, strings, durations and variables are not names', () => {
    expect(
      promqlMetricNames(
        'histogram_quantile(0.99, sum by (instance, le) (rate(a_bucket{job="x", le!="+Inf"}[$__rate_interval] offset 5m)))' +
          ' / on (instance) group_left (role) b > bool 1e3 and c{instance=~"$instance"} unless d',
      ),
    ).toEqual(['a_bucket', 'b', 'c', 'd']);
    expect(grafanaQueryMetricNames('label_values(tickwire_ready{job="t"}, instance)')).toEqual([
      'tickwire_ready',
    ]);
    expect(grafanaQueryMetricNames('label_values(instance)')).toEqual([]);
  });

  test('rule files: block scalars, quoted and plain values', () => {
    const yaml = [
      'groups:',
      '  - name: g',
      '    rules:',
      '      - alert: A',
      '        expr: |',
      '          sum(x_total)',
      '            / y',
      '        for: 1m',
      "      - expr: 'z == 0'",
      '        alert: B',
      '      - alert: C',
      '        expr: w > 1',
    ].join('\n');
    expect(ruleFileExprs(yaml)).toEqual(['sum(x_total) / y', 'z == 0', 'w > 1']);
  });
});

/** Reading /metrics in tests. */
import { httpGet } from './server.js';

/** Prometheus text of the server at `httpUrl('/metrics')`. */
export async function metricsText(httpUrl: (path: string) => string): Promise<string> {
  const res = await httpGet(httpUrl('/metrics'));
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return res.body;
}

/**
 * The samples of metric `name` as [labels text, value] pairs, e.g.
 * ['{route="/stream",handler="message"}', 0].
 */
export function samples(text: string, name: string): [string, number][] {
  const out: [string, number][] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const space = rest.lastIndexOf(' ');
    out.push([rest.slice(0, space).trim(), Number(rest.slice(space + 1))]);
  }
  return out;
}

/** Every tickwire_handler_errors_total series that is not 0 (the guard caught something). */
export async function handlerErrorsCaught(
  httpUrl: (path: string) => string,
): Promise<[string, number][]> {
  const all = samples(await metricsText(httpUrl), 'tickwire_handler_errors_total');
  if (all.length === 0) throw new Error('no tickwire_handler_errors_total series in /metrics');
  return all.filter(([, v]) => v !== 0);
}

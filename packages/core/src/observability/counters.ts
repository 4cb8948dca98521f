import { timingSafeEqual } from '../crypto/hash.js';
import type { PortcullisEvent } from '../types.js';
import { EVENT_METRICS, eventSamples } from './event-metrics.js';

/** Options of {@link eventCounters}. */
export interface EventCountersOptions {
  /** Path of the metrics route; default `/metrics`. */
  readonly path?: string;
  /** The bearer token a scraper must send (32+ characters): metrics are never public. */
  readonly token: string;
}

/** Counters fed by audit events, served as Prometheus text on their own route. */
export interface EventCounters {
  /** Pass as (or call from) the server's `onEvent`. */
  onEvent(event: PortcullisEvent): void;
  /** Answers the metrics route (401 without the token), `null` for any other request. */
  route(request: Request): Promise<Response | null>;
  /** The Prometheus text exposition (format 0.0.4) of the counters. */
  text(): string;
}

const escapeLabel = (value: string) =>
  value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/**
 * In-memory counters of the audit events for runtimes without a metrics library (a Worker): each
 * isolate counts its own requests, so a scraper sees one isolate per scrape — use them for rates and
 * alerts, not exact totals. Opt-in: import it only where a route should serve it.
 *
 * @example
 * ```ts
 * const counters = eventCounters({ token: env.METRICS_TOKEN });
 * const server = createAuthorizationServer({ ...options, onEvent: counters.onEvent });
 * // in fetch: return (await counters.route(request)) ?? gateway.fetch(request);
 * ```
 */
export function eventCounters(options: EventCountersOptions): EventCounters {
  if (options.token.length < 32) throw new TypeError('eventCounters: token must be at least 32 characters');
  const path = options.path ?? '/metrics';
  const values = new Map<string, Map<string, number>>(EVENT_METRICS.map((m) => [m.name, new Map()]));
  const text = () => {
    const lines: string[] = [];
    for (const metric of EVENT_METRICS) {
      lines.push(`# HELP ${metric.name} ${metric.help}`, `# TYPE ${metric.name} counter`);
      const series = values.get(metric.name) ?? new Map<string, number>();
      if (metric.labels.length === 0 && series.size === 0) lines.push(`${metric.name} 0`);
      for (const [labels, value] of series) lines.push(`${metric.name}${labels} ${value}`);
    }
    return `${lines.join('\n')}\n`;
  };
  return {
    onEvent(event) {
      for (const sample of eventSamples(event)) {
        const entries = Object.entries(sample.labels);
        const labels =
          entries.length === 0 ? '' : `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
        const series = values.get(sample.name);
        series?.set(labels, (series.get(labels) ?? 0) + 1);
      }
    },
    async route(request) {
      if (new URL(request.url).pathname !== path) return null;
      const presented = /^Bearer (\S+)$/i.exec(request.headers.get('authorization') ?? '')?.[1] ?? '';
      if (!(await timingSafeEqual(presented, options.token))) {
        return new Response('unauthorized\n', { status: 401, headers: { 'www-authenticate': 'Bearer' } });
      }
      return new Response(text(), {
        headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' },
      });
    },
    text,
  };
}

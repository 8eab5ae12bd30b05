import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { apiError } from '../errors/catalog.ts';
import { viaAdminListener } from './admin-listener.ts';

// Process metrics are per process, not per app: collected once into their own registry.
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: 'gatehouse_' });
  }
  return processRegistry;
}

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

interface Series {
  labels: { method: string; route: string; status_code: string };
  count: number;
  sum: number;
  /** Observations per bucket (not cumulative); index BUCKETS.length: above the last bound. */
  perBucket: number[];
}

interface MetricValue {
  labels: Record<string, string | number>;
  /** Printed after `labels` (prom-client's own histograms put `le` first this way). */
  sharedLabels?: Record<string, string>;
  value: number;
  metricName?: string;
}

/**
 * `/metrics` in Prometheus text format: request counts and latency by route and status, process
 * metrics, and whatever else is registered on the returned registry (auth-metrics.ts).
 *
 * Served on the admin listener (admin-listener.ts); on the main port only when `onMainPort`
 * (development without an admin port) — never in production, where it is a plain 404.
 *
 * The per-request work is one Map lookup and three additions: prom-client's own `inc`/`observe`
 * hash and validate the label object on every call (~3 % of a cheap request's CPU). The two
 * families are metric objects of prom-client's registry shape, built from the series at scrape
 * time; the text format (and the process metrics) are still prom-client's.
 */
export function registerMetrics(app: FastifyInstance, options: { onMainPort: boolean }): Registry {
  const registry = new Registry();
  const series = new Map<string, Series>();

  const requestsName = 'gatehouse_http_requests_total';
  const requestsHelp = 'HTTP requests by route and status.';
  const durationName = 'gatehouse_http_request_duration_seconds';
  const durationHelp = 'HTTP request latency by route and status.';
  const requests = {
    name: requestsName,
    help: requestsHelp,
    type: 'counter',
    get: () => ({ name: requestsName, help: requestsHelp, type: 'counter', aggregator: 'sum', values: [...series.values()].map((entry): MetricValue => ({ labels: entry.labels, value: entry.count })) }),
  };
  const duration = {
    name: durationName,
    help: durationHelp,
    type: 'histogram',
    get: () => {
      const values: MetricValue[] = [];
      for (const entry of series.values()) {
        let cumulative = 0;
        BUCKETS.forEach((bound, index) => {
          cumulative += entry.perBucket[index]!;
          values.push({ metricName: `${durationName}_bucket`, labels: { le: bound }, sharedLabels: entry.labels, value: cumulative });
        });
        values.push({ metricName: `${durationName}_bucket`, labels: { le: '+Inf' }, sharedLabels: entry.labels, value: entry.count });
        values.push({ metricName: `${durationName}_sum`, labels: entry.labels, value: entry.sum });
        values.push({ metricName: `${durationName}_count`, labels: entry.labels, value: entry.count });
      }
      return { name: durationName, help: durationHelp, type: 'histogram', aggregator: 'sum', values };
    },
  };
  registry.registerMetric(requests as unknown as Counter);
  registry.registerMetric(duration as unknown as Histogram);

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    const key = `${request.method} ${status} ${route}`;
    let entry = series.get(key);
    if (entry === undefined) {
      entry = { labels: { method: request.method, route, status_code: String(status) }, count: 0, sum: 0, perBucket: new Array<number>(BUCKETS.length + 1).fill(0) };
      series.set(key, entry);
    }
    const seconds = reply.elapsedTime / 1000;
    let index = 0;
    while (index < BUCKETS.length && seconds > BUCKETS[index]!) index++;
    entry.count++;
    entry.sum += seconds;
    entry.perBucket[index]!++;
    done();
  });

  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    // Answered exactly like an unknown route: the public port does not reveal that it exists.
    if (!options.onMainPort && !viaAdminListener(request.raw)) throw apiError('not_found', 'No such endpoint.');
    const merged = Registry.merge([processMetrics(), registry]);
    reply.type(merged.contentType);
    return merged.metrics();
  });
  return registry;
}

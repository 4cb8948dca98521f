import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EVENT_METRICS, eventSamples, type PortcullisEvent, type StorageObserver } from '@portcullis/core';
import { Counter, Histogram, Registry } from 'prom-client';

/** The gateway's Prometheus metrics, fed by the core's audit events and storage observer. */
export interface GatewayMetrics {
  readonly registry: Registry;
  /** Feeds one audit event. */
  onEvent(event: PortcullisEvent): void;
  /** Feeds one storage call (the core's `onStorageCall`). */
  readonly onStorageCall: StorageObserver;
  /** Times one call of the upstream MCP server (the proxy). */
  upstream<T extends Response>(call: () => Promise<T>): Promise<T>;
}

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The metrics of a gateway in one `prom-client` registry (names prefixed `portcullis_`). Every label
 * is a fixed vocabulary (an OAuth error code, a grant type, a storage operation), never user input or
 * an identifier, so the series stay few and never carry a secret.
 */
export function createGatewayMetrics(): GatewayMetrics {
  const registry = new Registry();
  // The event counters are the core's definitions, the same a Worker's eventCounters serves.
  const counters = new Map(
    EVENT_METRICS.map((m) => [
      m.name,
      new Counter({ name: m.name, help: m.help, labelNames: [...m.labels], registers: [registry] }),
    ]),
  );
  const storageSeconds = new Histogram({
    name: 'portcullis_storage_operation_seconds',
    help: 'Storage operation latency by operation and record kind',
    labelNames: ['operation', 'kind'],
    buckets: SECONDS,
    registers: [registry],
  });
  const storageErrors = new Counter({
    name: 'portcullis_storage_errors_total',
    help: 'Failed or timed-out storage operations',
    labelNames: ['operation', 'kind'],
    registers: [registry],
  });
  const upstreamSeconds = new Histogram({
    name: 'portcullis_upstream_request_seconds',
    help: 'Latency of the proxied MCP route until its response headers, by status class',
    labelNames: ['status'],
    buckets: SECONDS,
    registers: [registry],
  });
  const statusClass = (status: number) => `${Math.floor(status / 100)}xx`;

  return {
    registry,
    onEvent(event) {
      for (const sample of eventSamples(event)) counters.get(sample.name)?.inc(sample.labels);
    },
    onStorageCall(call) {
      storageSeconds.observe({ operation: call.operation, kind: call.kind }, call.durationMs / 1000);
      if (!call.ok) storageErrors.inc({ operation: call.operation, kind: call.kind });
    },
    async upstream(call) {
      const started = performance.now();
      try {
        const response = await call();
        upstreamSeconds.observe(
          { status: statusClass(response.status) },
          (performance.now() - started) / 1000,
        );
        return response;
      } catch (error) {
        upstreamSeconds.observe({ status: 'error' }, (performance.now() - started) / 1000);
        throw error;
      }
    },
  };
}

/** Serves `GET /metrics` (Prometheus text exposition) on its own listener, apart from the public one. */
export async function serveMetrics(
  metrics: GatewayMetrics,
  host: string,
  port: number,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

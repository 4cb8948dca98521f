import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PortcullisEvent, StorageObserver } from '@portcullis/core';
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
  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new Counter({ name, help, labelNames, registers: [registry] });
  const flowsStarted = counter(
    'portcullis_flows_started_total',
    'Authorization requests that reached sign-in',
  );
  const flowsCompleted = counter(
    'portcullis_flows_completed_total',
    'Authorizations approved (a grant and a code issued)',
  );
  const flowsDenied = counter('portcullis_flows_denied_total', 'Authorizations that ended in access_denied');
  const tokensIssued = counter('portcullis_tokens_issued_total', 'Token responses by grant type', [
    'grant_type',
  ]);
  const refusals = counter('portcullis_refusals_total', 'Token endpoint refusals by OAuth error code', [
    'error',
  ]);
  const replays = counter(
    'portcullis_replays_detected_total',
    'Replayed codes or refresh tokens (grant revoked)',
    ['what'],
  );
  const limits = counter('portcullis_limits_hit_total', 'Requests refused by a rate limit', ['limit']);
  const loginFailures = counter('portcullis_login_failures_total', 'Refused sign-ins by identity upstream', [
    'upstream',
  ]);
  const registrations = counter('portcullis_clients_registered_total', 'Clients registered (RFC 7591)');
  const registrationRefusals = counter(
    'portcullis_registrations_refused_total',
    'Registrations the registration policy refused',
    ['reason'],
  );
  const revocations = counter(
    'portcullis_grants_revoked_total',
    'Grants revoked (replays, clients, operators)',
  );
  const errors = counter('portcullis_errors_total', 'Requests that failed with 500 or 503', ['kind']);
  const storageSeconds = new Histogram({
    name: 'portcullis_storage_operation_seconds',
    help: 'Storage operation latency by operation and record kind',
    labelNames: ['operation', 'kind'],
    buckets: SECONDS,
    registers: [registry],
  });
  const storageErrors = counter('portcullis_storage_errors_total', 'Failed or timed-out storage operations', [
    'operation',
    'kind',
  ]);
  const upstreamSeconds = new Histogram({
    name: 'portcullis_upstream_request_seconds',
    help: 'Latency of the upstream MCP server until its response headers, by status class',
    labelNames: ['status'],
    buckets: SECONDS,
    registers: [registry],
  });

  const statusClass = (status: number) => `${Math.floor(status / 100)}xx`;

  return {
    registry,
    onEvent(event) {
      switch (event.type) {
        case 'authorization_started':
          return flowsStarted.inc();
        case 'authorization_granted':
          return flowsCompleted.inc();
        case 'authorization_denied':
          return flowsDenied.inc();
        case 'token_issued':
          return tokensIssued.inc({ grant_type: event.grantType });
        case 'token_refused':
          return refusals.inc({ error: event.reason });
        case 'replay_detected':
          return replays.inc({ what: event.what });
        case 'rate_limited':
          return limits.inc({ limit: event.limit });
        case 'login_failed':
          loginFailures.inc({ upstream: event.upstream });
          // The PIN upstream reports its attempt limits as a failed sign-in.
          if (/too many/i.test(event.reason)) limits.inc({ limit: 'pin' });
          return;
        case 'client_registered':
          return registrations.inc();
        case 'registration_refused':
          return registrationRefusals.inc({ reason: event.reason });
        case 'grant_revoked':
          return revocations.inc();
        case 'internal_error':
          return errors.inc({ kind: 'internal' });
        case 'storage_error':
          return errors.inc({ kind: 'storage' });
        default:
          return;
      }
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

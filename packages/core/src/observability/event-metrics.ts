import type { PortcullisEvent } from '../types.js';

/** A counter the audit events feed: its Prometheus name, help text and label names. */
export interface EventMetric {
  readonly name: string;
  readonly help: string;
  readonly labels: readonly string[];
}

/**
 * The counters derived from audit events, the same on every runtime (prom-client on Node, the
 * in-memory {@link eventCounters} on Workers). Labels are fixed vocabularies (OAuth error codes, grant
 * types, limits), never user input, identifiers or secrets.
 */
export const EVENT_METRICS: readonly EventMetric[] = [
  { name: 'portcullis_flows_started_total', help: 'Authorization requests that reached sign-in', labels: [] },
  {
    name: 'portcullis_flows_completed_total',
    help: 'Authorizations approved (a grant and a code issued)',
    labels: [],
  },
  { name: 'portcullis_flows_denied_total', help: 'Authorizations that ended in access_denied', labels: [] },
  { name: 'portcullis_tokens_issued_total', help: 'Token responses by grant type', labels: ['grant_type'] },
  {
    name: 'portcullis_refusals_total',
    help: 'Token endpoint refusals by OAuth error code',
    labels: ['error'],
  },
  {
    name: 'portcullis_replays_detected_total',
    help: 'Replayed codes or refresh tokens (grant revoked)',
    labels: ['what'],
  },
  { name: 'portcullis_limits_hit_total', help: 'Requests refused by a rate limit', labels: ['limit'] },
  {
    name: 'portcullis_login_failures_total',
    help: 'Refused sign-ins by identity upstream',
    labels: ['upstream'],
  },
  { name: 'portcullis_clients_registered_total', help: 'Clients registered (RFC 7591)', labels: [] },
  {
    name: 'portcullis_registrations_refused_total',
    help: 'Registrations the registration policy refused',
    labels: ['reason'],
  },
  {
    name: 'portcullis_grants_revoked_total',
    help: 'Grants revoked (replays, clients, operators)',
    labels: [],
  },
  { name: 'portcullis_errors_total', help: 'Requests that failed with 500 or 503', labels: ['kind'] },
];

/** One increment: which counter, with which labels. */
export interface EventSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

const one = (name: string, labels: Record<string, string> = {}): EventSample[] => [{ name, labels }];

/** The counter increments one audit event stands for (none for events no counter follows). */
export function eventSamples(event: PortcullisEvent): EventSample[] {
  switch (event.type) {
    case 'authorization_started':
      return one('portcullis_flows_started_total');
    case 'authorization_granted':
      return one('portcullis_flows_completed_total');
    case 'authorization_denied':
      return one('portcullis_flows_denied_total');
    case 'token_issued':
      return one('portcullis_tokens_issued_total', { grant_type: event.grantType });
    case 'token_refused':
      return one('portcullis_refusals_total', { error: event.reason });
    case 'replay_detected':
      return one('portcullis_replays_detected_total', { what: event.what });
    case 'rate_limited':
      return one('portcullis_limits_hit_total', { limit: event.limit });
    case 'login_failed':
      // The PIN upstream reports its attempt limits as a failed sign-in.
      return [
        ...one('portcullis_login_failures_total', { upstream: event.upstream }),
        ...(/too many/i.test(event.reason) ? one('portcullis_limits_hit_total', { limit: 'pin' }) : []),
      ];
    case 'client_registered':
      return one('portcullis_clients_registered_total');
    case 'registration_refused':
      return one('portcullis_registrations_refused_total', { reason: event.reason });
    case 'grant_revoked':
      return one('portcullis_grants_revoked_total');
    case 'internal_error':
      return one('portcullis_errors_total', { kind: 'internal' });
    case 'storage_error':
      return one('portcullis_errors_total', { kind: 'storage' });
    default:
      return [];
  }
}

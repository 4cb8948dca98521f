import type { PortcullisEvent } from '../types.js';

/** How serious an audit event is: `info` for normal flow, `warn` for refusals, `error` for attacks and outages. */
export type AuditLevel = 'info' | 'warn' | 'error';

const LEVELS: Readonly<Record<PortcullisEvent['type'], AuditLevel>> = {
  client_registered: 'info',
  client_deleted: 'info',
  authorization_started: 'info',
  authorization_granted: 'info',
  token_issued: 'info',
  token_revoked: 'info',
  repeat_accepted: 'info',
  grant_revoked: 'warn',
  authorization_denied: 'warn',
  token_refused: 'warn',
  login_failed: 'warn',
  rate_limited: 'warn',
  registration_refused: 'warn',
  replay_detected: 'error',
  internal_error: 'error',
  storage_error: 'error',
};

/** The level of an audit event (unknown future events are `info`). */
export function auditLevel(event: PortcullisEvent): AuditLevel {
  return LEVELS[event.type] ?? 'info';
}

/**
 * One structured JSON line for an audit event: `time` (ISO 8601), `level`, then the event's own fields.
 * Events never carry secrets (tokens, codes, PINs, client secrets, upstream tokens), so neither does the line.
 */
export function auditLine(event: PortcullisEvent, now: number = Date.now()): string {
  return JSON.stringify({ time: new Date(now).toISOString(), level: auditLevel(event), ...event });
}

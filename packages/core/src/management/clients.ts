import type { Core } from '../context.js';
import { parseRecord } from '../stores/records.js';
import { type ClientRecord, clientRecord } from '../stores/schemas.js';

/** A registered client as management shows it; never its secret or registration token hashes. */
export interface ClientSummary {
  readonly clientId: string;
  readonly clientName?: string;
  readonly redirectUris: readonly string[];
  readonly grantTypes: readonly string[];
  readonly authMethod: string;
  /** Epoch seconds. */
  readonly issuedAt: number;
  /** Epoch seconds of the last authorization or token request (written at most once a day). */
  readonly lastUsedAt?: number;
  /** Epoch ms when the unused client expires, `null` when it never does. */
  readonly expiresAt: number | null;
  /** `true` for the client identical public re-registrations share. */
  readonly shared: boolean;
}

function summarize(client: ClientRecord, expiresAt: number | null): ClientSummary {
  return {
    clientId: client.clientId,
    ...(client.clientName !== undefined ? { clientName: client.clientName } : {}),
    redirectUris: client.redirectUris,
    grantTypes: client.grantTypes,
    authMethod: client.authMethod,
    issuedAt: client.issuedAt,
    ...(client.lastUsedAt !== undefined ? { lastUsedAt: client.lastUsedAt } : {}),
    expiresAt,
    shared: client.shared === true,
  };
}

/** Every registered client (Client ID Metadata Documents are not registered and not listed). */
export async function listClients(core: Core): Promise<ClientSummary[]> {
  const clients = new Map<string, ClientSummary>();
  for await (const record of core.records.walk('client')) {
    // `<client_id>#changed` keys are RFC 7592 change notes, not clients.
    if (record.key.includes('#') || clients.has(record.key)) continue;
    // Not a client record: skipped.
    const parsed = parseRecord(clientRecord, record.value);
    if (parsed) clients.set(record.key, summarize(parsed, record.expiresAt));
  }
  return [...clients.values()].sort((a, b) => a.issuedAt - b.issuedAt);
}

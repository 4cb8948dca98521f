import type { Core } from '../context.js';
import type { PendingRecord } from '../stores/schemas.js';
import type { PendingAuthorization } from '../types.js';

/** The public view of a pending request that upstreams and pages get; `null` when its client is gone. */
export async function describePending(
  core: Core,
  id: string,
  record: PendingRecord,
): Promise<PendingAuthorization | null> {
  const client = await core.clients.load(record.clientId);
  if (!client) return null;
  return {
    id,
    client: {
      clientId: client.clientId,
      clientName: client.clientName,
      clientUri: client.clientUri,
      logoUri: client.logoUri,
      redirectUri: record.redirectUri,
    },
    scopes: record.scopes,
    resource: record.resource,
    expiresAt: record.expiresAt,
  };
}

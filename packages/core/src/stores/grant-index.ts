import { sha256 } from '../crypto/hash.js';
import type { StoreContext } from './context.js';
import type { GrantRecord } from './schemas.js';

/** Which grants an index entry finds: those of one user, or of one client. */
export type GrantOwner = { readonly userId: string } | { readonly clientId: string };

/**
 * The index key prefix of an owner: `grant-user:` or `grant-client:` plus the SHA-256 of the id, so a
 * long id fits the 200-character key limit and no personal identifier appears in a key.
 */
export async function ownerPrefix(owner: GrantOwner): Promise<string> {
  return 'userId' in owner
    ? `grant-user:${await sha256(owner.userId)}:`
    : `grant-client:${await sha256(owner.clientId)}:`;
}

/** Whether a grant belongs to an owner (an index entry is only a hint; the grant decides). */
export function ownedBy(grant: GrantRecord, owner: GrantOwner): boolean {
  return 'userId' in owner ? grant.userId === owner.userId : grant.clientId === owner.clientId;
}

async function entryKeys(grant: GrantRecord): Promise<string[]> {
  return [
    `${await ownerPrefix({ userId: grant.userId })}${grant.id}`,
    `${await ownerPrefix({ clientId: grant.clientId })}${grant.id}`,
  ];
}

/**
 * Writes a grant's index entries (by user, by client), with the grant's expiry. Written BEFORE the grant,
 * so a grant is never unfindable; an entry whose grant was never written (a crash in between) points at
 * nothing and is ignored by every reader, then expires with it.
 */
export async function indexGrant(ctx: StoreContext, grant: GrantRecord): Promise<void> {
  const keys = await entryKeys(grant);
  await Promise.all(keys.map((key) => ctx.records.put('index', key, grant.id, grant.expiresAt)));
}

/** Removes a grant's index entries, after the grant itself is gone. */
export async function unindexGrant(ctx: StoreContext, grant: GrantRecord): Promise<void> {
  const keys = await entryKeys(grant);
  await Promise.all(keys.map((key) => ctx.records.delete('index', key)));
}

/** The grant ids the index holds for an owner (maybe dangling: read each grant and check {@link ownedBy}). */
export async function indexedGrantIds(ctx: StoreContext, owner: GrantOwner): Promise<string[]> {
  const prefix = await ownerPrefix(owner);
  const ids = new Set<string>();
  for await (const record of ctx.records.walk('index', prefix)) ids.add(record.key.slice(prefix.length));
  return [...ids];
}

import type { ClientSummary, GrantSummary } from '@portcullis/core';

/** A plain-text table: a header row, then one row per item, columns padded to their widest cell. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '(none)';
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

const date = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? '-' : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/** The `list-clients` table. */
export function clientsTable(clients: readonly ClientSummary[]): string {
  return table(
    ['CLIENT ID', 'NAME', 'REGISTERED', 'LAST USED', 'EXPIRES', 'REDIRECT URIS'],
    clients.map((c) => [
      c.clientId,
      c.clientName ?? '-',
      date(c.issuedAt * 1000),
      date(c.lastUsedAt === undefined ? null : c.lastUsedAt * 1000),
      date(c.expiresAt),
      c.redirectUris.join(' '),
    ]),
  );
}

/** The `list-grants` table. */
export function grantsTable(grants: readonly GrantSummary[]): string {
  return table(
    ['GRANT ID', 'USER', 'CLIENT ID', 'SCOPES', 'CREATED', 'EXPIRES'],
    grants.map((g) => [g.id, g.userId, g.clientId, g.scopes.join(' '), date(g.createdAt), date(g.expiresAt)]),
  );
}

/**
 * A redirect to a client's redirect URI with the given parameters plus `iss` (RFC 9207 §2), which every
 * authorization response carries, errors included.
 */
export function redirectToClient(
  issuer: string,
  redirectUri: string,
  params: Readonly<Record<string, string | undefined>>,
): Response {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params))
    if (value !== undefined) url.searchParams.set(name, value);
  url.searchParams.set('iss', issuer);
  return new Response(null, {
    status: 302,
    headers: { Location: url.toString(), 'Cache-Control': 'no-store' },
  });
}

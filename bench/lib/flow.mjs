/**
 * One complete OAuth 2.1 flow against a Portcullis server, as an MCP client and its user's browser
 * would run it: RFC 7591 registration, `/authorize` with PKCE S256 and RFC 8707 `resource`, the PIN
 * form POSTed with the flow cookie, then the RFC 6749 §4.1.3 code exchange at `/token`.
 */
import { createHash, randomBytes } from 'node:crypto';

const REDIRECT_URI = 'http://127.0.0.1:9/callback';

const b64url = (bytes) => Buffer.from(bytes).toString('base64url');

function cookieHeader(response) {
  return response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(';')[0])
    .join('; ');
}

function hiddenFields(html) {
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error('the authorization page has no form');
  const fields = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[m[1]] = m[2];
  return { action: action.replace(/&amp;/g, '&'), fields };
}

async function expectStatus(response, status, step) {
  if (response.status !== status) {
    const body = await response.text().catch(() => '');
    throw new Error(`${step}: expected HTTP ${status}, got ${response.status} ${body.slice(0, 200)}`);
  }
  return response;
}

/**
 * Runs the flow against `issuer` (the server's origin) with `pin`; resolves the token response.
 * Every step's status is checked, so a failure throws instead of being counted as a flow.
 */
export async function runFlow(issuer, pin) {
  const resource = `${issuer}/mcp`;
  const registration = await expectStatus(
    await fetch(`${issuer}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'portcullis bench',
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      }),
    }),
    201,
    'register',
  );
  const { client_id: clientId } = await registration.json();

  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  const state = b64url(randomBytes(12));
  const authorize = new URL(`${issuer}/authorize`);
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    scope: 'mcp',
    resource,
  }))
    authorize.searchParams.set(k, v);
  const page = await expectStatus(await fetch(authorize, { redirect: 'manual' }), 200, 'authorize');
  const cookie = cookieHeader(page);
  const { action, fields } = hiddenFields(await page.text());

  const approved = await expectStatus(
    await fetch(new URL(action, issuer), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      body: new URLSearchParams({ ...fields, pin, decision: 'approve' }),
    }),
    302,
    'PIN form',
  );
  const location = new URL(approved.headers.get('location') ?? '', issuer);
  const code = location.searchParams.get('code');
  if (!code || location.searchParams.get('state') !== state) {
    throw new Error(
      `PIN form: no code for this state in the redirect (${location.origin}${location.pathname})`,
    );
  }

  const token = await expectStatus(
    await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        client_id: clientId,
        code_verifier: verifier,
        resource,
      }),
    }),
    200,
    'token',
  );
  const tokens = await token.json();
  if (typeof tokens.access_token !== 'string') throw new Error('token: no access_token in the response');
  return tokens;
}

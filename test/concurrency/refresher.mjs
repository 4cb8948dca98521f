/**
 * One client process of the concurrency tests (plain JavaScript, so it starts quickly): prints `ready`,
 * reads its job as one JSON line on stdin (`tokenAt` gateway, `other` gateway, `clientId`,
 * `refreshToken`), refreshes the shared refresh token at `tokenAt`, calls `/mcp` with the new access
 * token at both gateways, and prints the outcome as one JSON line.
 */

process.stdout.write('ready\n');
process.stdin.setEncoding('utf8');
let input = '';
for await (const chunk of process.stdin) {
  input += chunk;
  if (input.includes('\n')) break;
}
/** @type {{ tokenAt: string; other: string; clientId: string; refreshToken: string }} */
const job = JSON.parse(input.slice(0, input.indexOf('\n')));
const { tokenAt, other } = job;

const response = await fetch(`${tokenAt}/token`, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({
    grant_type: 'refresh_token',
    refresh_token: job.refreshToken,
    client_id: job.clientId,
  }),
});
/** @type {{ access_token?: string; refresh_token?: string; error?: string }} */
const body = await response.json();
/** @param {string} gateway */
const mcp = async (gateway) =>
  (await fetch(`${gateway}/mcp`, { headers: { authorization: `Bearer ${body.access_token ?? ''}` } })).status;
const result = {
  status: response.status,
  error: body.error,
  accessToken: body.access_token,
  refreshToken: body.refresh_token,
  mcp: body.access_token ? [await mcp(tokenAt), await mcp(other)] : [],
};
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);

/**
 * Scenario (3): the MCP SDK's own `requireBearerAuth` middleware on Express, with a trivial verifier
 * (an in-memory map from token to auth info: no hashing, no storage, no decryption). An upper bound
 * for "bearer auth in the SDK", and the context for Portcullis' ratio in scenario (2).
 */
import { announce, drain, RESULT } from './common.mjs';
import { express, InvalidTokenError, requireBearerAuth } from './deps.mjs';

const tokens = new Map([[process.env.BENCH_TOKEN, { clientId: 'bench-client', scopes: ['mcp'] }]]);
const verifier = {
  async verifyAccessToken(token) {
    const known = tokens.get(token);
    if (!known) throw new InvalidTokenError('The access token is invalid');
    return { token, ...known, expiresAt: Math.floor(Date.now() / 1000) + 3600 };
  },
};

const app = express();
app.disable('x-powered-by');
app.post('/mcp', requireBearerAuth({ verifier, requiredScopes: ['mcp'] }), async (req, res) => {
  await drain(req);
  res.type('application/json').send(RESULT);
});
const server = app.listen(0, '127.0.0.1');
await new Promise((resolve, reject) => {
  server.once('listening', resolve);
  server.once('error', reject);
});
server.keepAliveTimeout = 60_000;
announce(server.address().port, () => new Promise((resolve) => server.close(resolve)));

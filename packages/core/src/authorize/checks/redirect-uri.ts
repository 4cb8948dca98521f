import { redirectUriMatches } from '../../rules/redirect-uri.js';
import type { AuthorizeCheck } from '../request.js';

/**
 * RFC 6749 §3.1.2.3: the redirect URI must match a registered one exactly (RFC 8252 §7.3 loopback port
 * variance aside); it may be omitted only when exactly one is registered. Errors are pages, never redirects.
 */
export const checkRedirectUri: AuthorizeCheck = (req) => {
  const registered = req.client!.redirectUris;
  const requested = req.params.get('redirect_uri');
  if (requested === undefined) {
    if (registered.length !== 1)
      throw req.refuse('invalid_request', 'redirect_uri is required because the client registered several');
    req.redirectUri = registered[0]!;
    return;
  }
  if (!registered.some((uri) => redirectUriMatches(uri, requested)))
    throw req.refuse('invalid_request', 'The redirect_uri does not match any URI registered by this client');
  req.redirectUri = requested;
  req.redirectUriSent = true;
};

import {
  AuthorizationRedirectError,
  errorResponse,
  OAuthError,
  StorageUnavailableError,
  storageErrorEvent,
  storageUnavailable,
} from '../errors.js';
import { errorPage } from '../pages/html.js';
import type { PortcullisEvent } from '../types.js';
import { redirectToClient } from './redirect.js';

/** How a route's errors are shown: JSON (RFC 6749 §5.2) for API routes, an HTML page for pages. */
export type ErrorStyle = 'json' | 'page';

/** What rendering needs to know about the server. */
export interface RenderContext {
  readonly issuer: string;
  readonly onEvent: (event: PortcullisEvent) => void;
}

/**
 * The one place an error becomes a response: an {@link AuthorizationRedirectError} goes back to the
 * client's redirect URI; an {@link OAuthError} is rendered in the route's style; a storage failure is a
 * 503 with `Retry-After` (reported as `storage_error`); anything else is a 500 reported as
 * `internal_error` without details.
 */
export function renderError(
  error: unknown,
  style: ErrorStyle,
  ctx: RenderContext,
): { response: Response; code: string } {
  if (error instanceof AuthorizationRedirectError) {
    const response = redirectToClient(ctx.issuer, error.redirectUri, {
      error: error.code,
      error_description: error.description,
      state: error.state,
    });
    return { response, code: error.code };
  }
  let oauth: OAuthError;
  if (error instanceof OAuthError) {
    oauth = error;
  } else if (error instanceof StorageUnavailableError) {
    ctx.onEvent(storageErrorEvent(error));
    oauth = storageUnavailable();
  } else {
    ctx.onEvent({ type: 'internal_error', message: error instanceof Error ? error.name : 'error' });
    oauth = new OAuthError('server_error', 'The authorization server encountered an unexpected error', 500);
  }
  const response =
    style === 'page'
      ? errorPage(oauth.code, oauth.description, oauth.status, oauth.headers)
      : errorResponse(oauth);
  return { response, code: oauth.code };
}

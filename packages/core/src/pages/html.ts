/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Security headers of every authorization page: no framing (clickjacking), strict CSP, no caching. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'none'; base-uri 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
};

const STYLE = `
body{font:16px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f4f5f7;color:#1d2330;margin:0}
main{max-width:28rem;margin:8vh auto;background:#fff;border-radius:12px;padding:2rem;box-shadow:0 2px 12px #0002}
h1{font-size:1.25rem;margin:0 0 1rem}.muted{color:#5b6475;font-size:.9rem}.scopes{padding-left:1.2rem}
code{background:#eef0f4;border-radius:4px;padding:0 .3rem;word-break:break-all}
label{display:block;margin:1rem 0 .3rem;font-weight:600}
input[type=password]{width:100%;box-sizing:border-box;font-size:1.1rem;padding:.6rem;border:1px solid #c4c9d4;border-radius:8px}
.actions{display:flex;gap:.75rem;margin-top:1.5rem}button{flex:1;font-size:1rem;padding:.7rem;border-radius:8px;border:0;cursor:pointer}
button.primary{background:#1f5eff;color:#fff}button.secondary{background:#e6e8ee;color:#1d2330}
.error{background:#fdecec;color:#8a1c1c;border-radius:8px;padding:.6rem .8rem}`;

/** A complete HTML page with the security headers. `body` must already be escaped. */
export function htmlPage(
  title: string,
  body: string,
  status = 200,
  headers: Readonly<Record<string, string>> = {},
): Response {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="referrer" content="no-referrer"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
  return new Response(html, { status, headers: { ...PAGE_HEADERS, ...headers } });
}

/** The page shown when an error cannot be redirected to the client (RFC 6749 §4.1.2.1). */
export function errorPage(
  code: string,
  description: string,
  status = 400,
  headers: Readonly<Record<string, string>> = {},
): Response {
  return htmlPage(
    'Authorization error',
    `<h1>Authorization failed</h1><p class="error"><strong>${escapeHtml(code)}</strong>: ${escapeHtml(description)}</p><p class="muted">You can close this window.</p>`,
    status,
    headers,
  );
}

/** What the user is asked to approve: who asks, for what, and where they will be sent. */
export interface AccessRequestView {
  readonly serviceName: string;
  readonly clientName: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scopes: readonly string[];
  readonly resource: string;
}

/** The HTML describing an access request, shared by the consent and PIN pages. */
export function accessRequestHtml(view: AccessRequestView): string {
  const scopes = view.scopes.length
    ? `<ul class="scopes">${view.scopes.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join('')}</ul>`
    : '<p class="muted">No specific scopes.</p>';
  const host = hostOf(view.redirectUri);
  return `<h1>${escapeHtml(view.clientName)} wants to access ${escapeHtml(view.serviceName)}</h1>
<p>Requested access to <code>${escapeHtml(view.resource)}</code>:</p>${scopes}
<p class="muted">Client ID <code>${escapeHtml(view.clientId)}</code><br>After approval you will be sent to <code>${escapeHtml(host)}</code>.</p>`;
}

function hostOf(uri: string): string {
  try {
    const url = new URL(uri);
    return url.host ? `${url.protocol}//${url.host}` : url.protocol;
  } catch {
    return uri;
  }
}

/** Hidden inputs carrying the pending id and CSRF token of a form. */
export const flowInputs = (pendingId: string, csrf: string): string =>
  `<input type="hidden" name="pending" value="${escapeHtml(pendingId)}"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}">`;

/** Response types this server issues: the authorization code only (OAuth 2.1 §4.1.1). */
export const RESPONSE_TYPES: readonly string[] = ['code'];

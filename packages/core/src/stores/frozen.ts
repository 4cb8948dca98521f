/**
 * Freezes a JSON value and everything in it. Records and secrets kept in an in-process cache are shared
 * by every request that reads them: frozen, a handler that changes what it was handed (`info.props`,
 * `info.scopes`) fails at once instead of changing what the next caller is told.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const member of Object.values(value)) deepFreeze(member);
  return value;
}

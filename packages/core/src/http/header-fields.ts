/**
 * Reading the headers of a request or response without making a `Headers` for them, where the runtime
 * adapter still holds them as a plain object (the Node adapter does).
 */

/**
 * A request or response getter giving its headers as a plain object of lower-case names with the values
 * `Headers` would give (repeated fields joined by ", "), while nobody has made its `Headers` yet (after
 * that, those may have been changed): read as they are, instead of through a `Headers` made for it.
 */
export const PLAIN_HEADERS = Symbol.for('portcullis.plainHeaders');

/** A request's or response's header fields: its plain object where it keeps one, else its `Headers`. */
export function headerFields(message: Request | Response): Headers | Readonly<Record<string, string>> {
  return (
    (message as (Request | Response) & { [PLAIN_HEADERS]?: Record<string, string> })[PLAIN_HEADERS] ??
    message.headers
  );
}

/** One field (lower-case `name`) of what {@link headerFields} gave. */
export function fieldOf(fields: Headers | Readonly<Record<string, string>>, name: string): string | null {
  return fields instanceof Headers ? fields.get(name) : (fields[name] ?? null);
}

/** Every `[name, value]` of what {@link headerFields} gave. */
export function fieldEntries(fields: Headers | Readonly<Record<string, string>>): Iterable<[string, string]> {
  return fields instanceof Headers ? fields : Object.entries(fields);
}

/** One header of a request or response (lower-case `name`), read as {@link headerFields} does. */
export function headerOf(message: Request | Response, name: string): string | null {
  return fieldOf(headerFields(message), name);
}

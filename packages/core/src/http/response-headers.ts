/** Reading a response's headers without making a `Headers` for it where the runtime adapter kept them plain. */

/**
 * A response getter giving its headers while they are still a plain object of lower-case names (the Node
 * adapter's responses have one): read as they are, instead of through a `Headers` made for it.
 */
export const PLAIN_HEADERS = Symbol.for('portcullis.plainHeaders');

/** A response's header fields: its plain object where it keeps one, else its `Headers`. */
export function headerFields(response: Response): Headers | Readonly<Record<string, string>> {
  return (
    (response as Response & { [PLAIN_HEADERS]?: Record<string, string> })[PLAIN_HEADERS] ?? response.headers
  );
}

/** One header of a response (lower-case `name`), read as {@link headerFields} does. */
export function responseHeader(response: Response, name: string): string | null {
  const fields = headerFields(response);
  return fields instanceof Headers ? fields.get(name) : (fields[name] ?? null);
}

/**
 * A small validator for options, registration metadata and the records read back from storage: each
 * schema checks a value and returns it (objects keep only their declared members), reporting every
 * problem with the path of the value it concerns. Types are inferred from schemas with {@link Infer}.
 */

/** Where a problem is: the member names and array indexes leading to the value. */
export type Path = readonly (string | number)[];

/** One problem of a value: where it is and what is wrong, e.g. `must be at most 5`. */
export interface Issue {
  readonly path: Path;
  readonly message: string;
}

/**
 * Checks one value: returns it (a copy for objects and arrays) and pushes an {@link Issue} for each
 * problem, its path relative to the value. When an issue was pushed, the returned value is not to be used.
 */
export type Run<T> = (value: unknown, issues: Issue[]) => T;

/** A schema of values of type `T`. */
export interface Schema<T> {
  readonly run: Run<T>;
}

/** A schema whose value may be absent (`undefined`); as an object member, the member is optional. */
export interface Optional<T> extends Schema<T | undefined> {
  readonly optional: true;
}

/** The type of the values a schema accepts. */
export type Infer<S> = S extends Schema<infer T> ? T : never;

/** A rule a checked value must follow: returns what is wrong with it, or `undefined`. */
export type Rule<T> = (value: T) => string | undefined;

/** The outcome of {@link validate}: the checked value, or every problem found. */
export type Validation<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly issues: readonly Issue[] };

/** Checks `value` against `schema`. */
export function validate<T>(schema: Schema<T>, value: unknown): Validation<T> {
  const issues: Issue[] = [];
  const checked = schema.run(value, issues);
  return issues.length ? { ok: false, issues } : { ok: true, value: checked };
}

/** A schema of values passing `test` (else the problem is `message`), then every rule. */
export function custom<T>(test: (value: unknown) => boolean, message: string, ...rules: Rule<T>[]) {
  const schema: Schema<T> = {
    run(value, issues) {
      if (!test(value)) issues.push({ path: [], message });
      else
        for (const rule of rules) {
          const problem = rule(value as T);
          if (problem) issues.push({ path: [], message: problem });
        }
      return value as T;
    },
  };
  return schema;
}

/** A string. */
export const string = (...rules: Rule<string>[]) =>
  custom<string>((v) => typeof v === 'string', 'must be a string', ...rules);

/** A finite number. */
export const number = (...rules: Rule<number>[]) =>
  custom<number>(Number.isFinite, 'must be a number', ...rules);

/** A safe integer. */
export const int = (...rules: Rule<number>[]) =>
  custom<number>(Number.isSafeInteger, 'must be an integer', ...rules);

/** `true` or `false`. */
export const boolean = () => custom<boolean>((v) => typeof v === 'boolean', 'must be true or false');

/** Any value (JSON members whose content is not checked). */
export const unknown = () => custom<unknown>(() => true, '');

/** One of the given strings. */
export const oneOf = <const T extends string>(values: readonly T[]) =>
  custom<T>(
    (v) => values.includes(v as T),
    values.length === 1 ? `must be "${values[0]}"` : `must be one of: ${values.join(', ')}`,
  );

/** A value or `undefined`. */
export function optional<T>(schema: Schema<T>): Optional<T> {
  return {
    optional: true,
    run: (value, issues) => (value === undefined ? value : schema.run(value, issues)),
  };
}

/** An array whose items all match `item`, then every rule. */
export function array<T>(item: Schema<T>, ...rules: Rule<T[]>[]): Schema<T[]> {
  const list = custom<unknown[]>(Array.isArray, 'must be an array');
  const whole = custom<T[]>(() => true, '', ...rules);
  return {
    run(value, issues) {
      const before = issues.length;
      list.run(value, issues);
      if (issues.length > before) return value as T[];
      const items = (value as unknown[]).map((v, i) => member(item, v, i, issues));
      return whole.run(items, issues);
    },
  };
}

/** Checks a member or item; its issues' paths get its key in front (paths are built only on failure). */
function member<T>(schema: Schema<T>, value: unknown, key: string | number, issues: Issue[]): T {
  const before = issues.length;
  const checked = schema.run(value, issues);
  for (let i = before; i < issues.length; i++) {
    const issue = issues[i]!;
    issues[i] = { path: [key, ...issue.path], message: issue.message };
  }
  return checked;
}

/** Whether a value is a JSON object: an object, neither `null` nor an array. */
export const isJsonObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A JSON object with string keys, its members not checked. */
export const record = () => custom<Record<string, unknown>>(isJsonObject, 'must be an object');

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends Optional<unknown> ? K : never }[keyof S];
/** The type of the objects an object schema of `S` accepts. */
export type ObjectOf<S extends Shape> = {
  [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]>;
} & { [K in OptionalKeys<S>]?: Infer<S[K]> } extends infer O
  ? { [K in keyof O]: O[K] }
  : never;

/** An object with the members of `shape`; other members are dropped from the checked value. */
export function object<S extends Shape>(shape: S): Schema<ObjectOf<S>> {
  return {
    run(value, issues) {
      if (!isJsonObject(value)) {
        issues.push({ path: [], message: 'must be an object' });
        return value as ObjectOf<S>;
      }
      const checked: Record<string, unknown> = {};
      for (const key in shape) {
        const checkedMember = member(shape[key]!, value[key], key, issues);
        if (checkedMember !== undefined) checked[key] = checkedMember;
      }
      return checked as ObjectOf<S>;
    },
  };
}

/** A value matching one of the schemas (the first that does), else `message`. */
export function union<T>(schemas: readonly Schema<T>[], message: string): Schema<T> {
  return {
    run(value, issues) {
      for (const schema of schemas) {
        const own: Issue[] = [];
        const checked = schema.run(value, own);
        if (!own.length) return checked;
      }
      issues.push({ path: [], message });
      return value as T;
    },
  };
}

/** Adds rules to a schema, checked once its value passed it. */
export function refine<T>(schema: Schema<T>, ...rules: Rule<T>[]): Schema<T> {
  const more = custom<T>(() => true, '', ...rules);
  return {
    run(value, issues) {
      const before = issues.length;
      const checked = schema.run(value, issues);
      return issues.length > before ? checked : more.run(checked, issues);
    },
  };
}

/** A number of at least `min`. */
export const min =
  (least: number): Rule<number> =>
  (v) =>
    v < least ? `must be at least ${least}` : undefined;

/** A number of at most `max`. */
export const max =
  (most: number): Rule<number> =>
  (v) =>
    v > most ? `must be at most ${most}` : undefined;

/** A number greater than zero. */
export const positive: Rule<number> = (v) => (v > 0 ? undefined : 'must be greater than 0');

const unit = (v: string | readonly unknown[]) => (typeof v === 'string' ? 'characters' : 'items');

/** A string or array of at least `least` characters or items. */
export const minLength =
  (least: number, message?: string): Rule<string | readonly unknown[]> =>
  (v) =>
    v.length < least ? (message ?? `must have at least ${least} ${unit(v)}`) : undefined;

/** A string or array of at most `most` characters or items. */
export const maxLength =
  (most: number): Rule<string | readonly unknown[]> =>
  (v) =>
    v.length > most ? `must have at most ${most} ${unit(v)}` : undefined;

/** A string matching `pattern`. */
export const matches =
  (pattern: RegExp, message: string): Rule<string> =>
  (v) =>
    pattern.test(v) ? undefined : message;

/** A value passing `test`. */
export const rule =
  <T>(test: (value: T) => boolean, message: string): Rule<T> =>
  (v) =>
    test(v) ? undefined : message;

import { describe, expect, it } from 'vitest';
import * as v from '../src/validation/schema.js';

const problems = <T>(schema: v.Schema<T>, value: unknown) => {
  const result = v.validate(schema, value);
  return result.ok ? [] : result.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('validation schemas', () => {
  const schema = v.object({
    name: v.string(v.minLength(1), v.maxLength(5)),
    count: v.optional(v.int(v.positive, v.max(5))),
    tags: v.optional(v.array(v.string(v.matches(/^[a-z]+$/, 'must be lowercase')), v.maxLength(2))),
    kind: v.optional(v.oneOf(['a', 'b'])),
    mode: v.optional(v.oneOf(['only'])),
    extra: v.optional(v.record()),
  });

  it('returns a copy holding the declared members only (unknown ones are dropped)', () => {
    const result = v.validate(schema, { name: 'x', count: 2, tags: ['a'], other: 1 });
    expect(result).toEqual({ ok: true, value: { name: 'x', count: 2, tags: ['a'] } });
    expect(result.ok && 'other' in result.value).toBe(false);
    expect(result.ok && 'kind' in result.value).toBe(false);
  });

  it('names the path and the problem of every invalid value', () => {
    expect(
      problems(schema, {
        name: 'toolong',
        count: 6,
        tags: ['ok', 'NO', 'x'],
        kind: 'c',
        mode: 'other',
        extra: [],
      }),
    ).toEqual([
      'name: must have at most 5 characters',
      'count: must be at most 5',
      'tags.1: must be lowercase',
      'tags: must have at most 2 items',
      'kind: must be one of: a, b',
      'mode: must be "only"',
      'extra: must be an object',
    ]);
    expect(problems(schema, { count: 1.5 })).toEqual(['name: must be a string', 'count: must be an integer']);
    expect(problems(schema, { name: '', count: 0 })).toEqual([
      'name: must have at least 1 characters',
      'count: must be greater than 0',
    ]);
    expect(problems(schema, null)).toEqual([': must be an object']);
    expect(problems(schema, ['x'])).toEqual([': must be an object']);
  });

  it('refuses non-finite numbers, and booleans that are not true or false', () => {
    expect(problems(v.number(), Number.NaN)).toEqual([': must be a number']);
    expect(problems(v.number(), Number.POSITIVE_INFINITY)).toEqual([': must be a number']);
    expect(problems(v.number(v.min(0)), -1)).toEqual([': must be at least 0']);
    expect(problems(v.boolean(), 'true')).toEqual([': must be true or false']);
    expect(problems(v.int(), 2 ** 53)).toEqual([': must be an integer']);
  });

  it('checks a union against each schema, and refinements only after the value passed', () => {
    const secret = v.refine(
      v.union<string | string[]>([v.string(), v.array(v.string(), v.minLength(1))], 'string or list'),
      v.rule((s) => (typeof s === 'string' ? [s] : s).every((x) => x.length >= 3), 'too short'),
    );
    expect(v.validate(secret, ['abc', 'abcd'])).toEqual({ ok: true, value: ['abc', 'abcd'] });
    expect(problems(secret, [])).toEqual([': string or list']);
    expect(problems(secret, 7)).toEqual([': string or list']);
    expect(problems(secret, 'ab')).toEqual([': too short']);
  });

  it('custom schemas use their own message', () => {
    const fn = v.custom<() => void>((x) => typeof x === 'function', 'must be a function');
    expect(problems(v.object({ hook: fn }), { hook: 1 })).toEqual(['hook: must be a function']);
    expect(problems(v.object({ hook: fn }), { hook: () => {} })).toEqual([]);
  });
});

import { z } from 'zod';

/**
 * A string holding JSON whose value matches `schema` (a value kept in Redis, a header): text that is not JSON is an
 * issue like any other, so `safeParse` never throws on it.
 */
export function jsonString<T extends z.ZodType>(schema: T) {
  return z
    .string()
    .transform((text, ctx): unknown => {
      try {
        return JSON.parse(text);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'Expected a JSON text' });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

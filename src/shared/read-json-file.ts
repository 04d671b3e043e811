import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { HairError, type ErrorCode } from './errors.js';

/**
 * Reads a JSON file the project ships or generates and validates it with `schema`. Bad JSON or a schema mismatch is a
 * HairError with `code`, naming the file and every failing path.
 */
export function readJsonFile<Schema extends z.ZodType>(path: string, schema: Schema, code: ErrorCode, what: string): z.infer<Schema> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new HairError(code, { file: path }, { cause, detail: `${path} is not valid JSON` });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new HairError(code, { file: path }, { detail: `${path} does not match the ${what} schema: ${where}` });
  }
  return parsed.data;
}

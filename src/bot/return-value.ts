/** A job's return value as QueueEvents (a JSON string) or a fetched Job (the object) gives it. */
export function returnValueOf(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

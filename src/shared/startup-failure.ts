import { toHairError } from './errors.js';
import type { Logger } from './log.js';

/**
 * What every entry point does when it cannot start: one fatal line naming the code and what to fix (a HairError's
 * detail names the setting), then exit 1. `process.exitCode` is set first: if every handle is already closed the
 * process drains before the timer fires, and must still exit 1. The timer covers a handle that stays open.
 */
export function exitOnStartupFailure(logger: Pick<Logger, 'fatal'>, error: unknown, what: string): void {
  const failure = toHairError(error);
  // Known failures explain themselves; a stack only helps with the unknown ones.
  const fields = failure.code === 'INTERNAL' ? { code: failure.code, err: error } : { code: failure.code };
  logger.fatal(fields, `${what} failed to start: ${failure.message}`);
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100).unref();
}

import type { Logger } from './log.js';

/**
 * SIGTERM / SIGINT → `close()` (it finishes what is running), then exit 0, or 1 if closing failed. A second signal
 * exits at once. One behaviour for `npm start`, `npm run bot` and `npm run worker`.
 */
export function exitOnShutdownSignals(logger: Pick<Logger, 'info' | 'warn' | 'error'>, close: () => Promise<unknown>): void {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    logger.info({ signal }, 'signal received: shutting down');
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown incomplete');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

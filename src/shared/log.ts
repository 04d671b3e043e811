import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * Paths pino replaces with "[redacted]". Selfie bytes, attachment URLs (signed), interaction and bot tokens must
 * never reach a log line, wherever they sit in the logged object.
 */
export const REDACT_PATHS = [
  'token', '*.token', 'interactionToken', '*.interactionToken', 'callbackToken', '*.callbackToken', 'botToken', '*.botToken',
  'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization',
  'attachmentUrl', '*.attachmentUrl', 'url', '*.url', 'selfie', '*.selfie', 'image', '*.image', 'bytes', '*.bytes',
];

export interface LogOptions {
  level?: string;
  name?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to read what was logged. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LogOptions = {}): Logger {
  const pinoOptions: LoggerOptions = {
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: options.name ? { name: options.name } : {},
  };
  return options.destination ? pino(pinoOptions, options.destination as pino.DestinationStream) : pino(pinoOptions);
}

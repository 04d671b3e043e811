import { pino, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';

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
  destination?: NodeJS.WritableStream & { isTTY?: boolean };
  /** LOG_FORMAT: `auto` is readable on a terminal and JSON otherwise (files, pipes, log collectors). */
  format?: 'auto' | 'json' | 'pretty';
}

/** Whether lines are written for people: `pretty`, or `auto` on a terminal. */
export function isPrettyLog(format: LogOptions['format'], destination: { isTTY?: boolean }): boolean {
  return format === 'pretty' || ((format ?? 'auto') === 'auto' && destination.isTTY === true);
}

/**
 * pino with redaction. Pretty lines go through pino-pretty in this process (synchronously, no worker thread), so a
 * fatal line before `process.exit` is never lost; redaction happens before either format.
 */
export function createLogger(options: LogOptions = {}): Logger {
  const pinoOptions: LoggerOptions = {
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: options.name ? { name: options.name } : {},
  };
  const destination = options.destination ?? process.stdout;
  if (isPrettyLog(options.format, destination)) {
    const colorize = destination.isTTY === true;
    return pino(pinoOptions, pretty({ destination, sync: true, colorize, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
  }
  return options.destination ? pino(pinoOptions, options.destination as pino.DestinationStream) : pino(pinoOptions);
}

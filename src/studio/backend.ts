import type { Locale } from '../shared/i18n/index.js';

/** One try-on the page asked for, as the studio hands it to an engine. */
export interface TryOnOrder {
  jobId: string;
  /** In memory only; dropped as soon as the engine (or the worker's one download) has it. */
  selfie: Uint8Array;
  contentType: string;
  shapePresetId?: string | undefined;
  colorPresetId?: string | undefined;
  locale: Locale;
  guildId?: string | undefined;
  origin: 'studio' | 'studio-recolor';
  /** The worker's one-time token for the result callback (queue mode). */
  callbackToken: string;
}

/**
 * Where the studio's try-ons run: the shared BullMQ queue (Redis answered) or the engine in this process. Either
 * reports progress and the outcome to the job board.
 */
export interface StudioBackend {
  readonly mode: 'queue' | 'in-process';
  /** Throws a HairError (QUEUE_PAUSED…) when the try-on cannot start. */
  submit(order: TryOnOrder): Promise<void>;
  cancel(jobId: string): Promise<void>;
  close(): Promise<void>;
}

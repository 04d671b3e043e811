import { DiscordAPIError, HTTPError, REST, type RawFile, type RESTOptions } from '@discordjs/rest';
import { errorMessage, uiText, type Locale } from '../shared/i18n/index.js';
import { HairError, type ErrorCode, type ErrorParams } from '../shared/errors.js';
import { buildCustomId, INTERACTION_TOKEN_TTL_MS, type DiscordTryOnJobData, type StudioTryOnJobData, type TryOnJobData } from '../shared/job.js';
import type { Logger } from '../shared/log.js';
import { parsePresetId } from '../shared/presets.js';
import type { EncodedResult } from './encode-result.js';

/** Discord JSON error codes after which the interaction reply cannot be edited: post in the channel instead. */
const WEBHOOK_GONE = new Set([50027 /* invalid webhook token */, 10015 /* unknown webhook */, 10008 /* unknown message */]);
/** Edits later than this before the token's 15 minutes are up go to the channel (the upload itself takes time). */
const TOKEN_MARGIN_MS = 60_000;

export interface DeliveryConfig {
  DISCORD_API_URL: string;
  /** The bot token: only for the channel fallback. */
  DISCORD_TOKEN?: string | undefined;
}

export interface DeliveryDeps {
  logger: Logger;
  /** A prepared REST client (tests); otherwise one is made from the config. */
  rest?: REST;
  now?: () => number;
}

export interface DeliveredMessage {
  via: 'interaction' | 'channel' | 'studio';
  messageId?: string;
}

export interface ResultSummary {
  jobId: string;
  /** ms: total (request → now), queued, pipeline. */
  totalMs: number;
  queuedMs: number;
  pipelineMs: number;
}

/** Tells the requester how their try-on ended; one implementation per reply target (Discord, studio). */
export interface Delivery<Job = TryOnJobData> {
  deliverResult(job: Job, image: EncodedResult, summary: ResultSummary, signal?: AbortSignal): Promise<DeliveredMessage>;
  /** Best effort is the caller's choice: this throws like deliverResult does. */
  deliverError(job: Job, jobId: string, error: HairError): Promise<DeliveredMessage>;
}

/** One Delivery for every job: Discord jobs to Discord, studio jobs back to their studio. */
export function routeDelivery(targets: { discord: Delivery<DiscordTryOnJobData>; studio: Delivery<StudioTryOnJobData> }): Delivery {
  return {
    deliverResult: (job, image, summary, signal) =>
      job.via === 'studio' ? targets.studio.deliverResult(job, image, summary, signal) : targets.discord.deliverResult(job, image, summary, signal),
    deliverError: (job, jobId, error) =>
      job.via === 'studio' ? targets.studio.deliverError(job, jobId, error) : targets.discord.deliverError(job, jobId, error),
  };
}

/**
 * What a user is told about a failure: setup failures (models, config) read as INTERNAL with the job id; user and
 * transient errors keep their own code and text.
 */
export function userVisibleFailure(error: HairError, jobId: string): { code: ErrorCode; params: ErrorParams } {
  const code: ErrorCode = error.userFacing || error.retryable || error.code === 'JOB_TIMEOUT' ? error.code : 'INTERNAL';
  return { code, params: code === 'INTERNAL' ? { jobId } : { jobId, ...error.params } };
}

type Route = `/${string}`;
interface MessageBody {
  content: string;
  embeds: unknown[];
  components: unknown[];
  attachments: Array<{ id: number; filename: string }>;
  allowed_mentions?: { users: string[]; parse: string[] };
}

function presetLabel(presetId: string | undefined, locale: Locale): string {
  if (!presetId) return uiText(locale, 'worker.result.sameAsFace');
  return parsePresetId(presetId)?.slug ?? presetId;
}

const seconds = (ms: number) => (ms / 1000).toFixed(1);

function resultBody(job: DiscordTryOnJobData, image: EncodedResult, summary: ResultSummary, filename: string): MessageBody {
  const { locale } = job;
  const button = (action: 'recolor' | 'reshape' | 'retry' | 'delete', style: number) => ({
    type: 2,
    style,
    label: uiText(locale, `worker.button.${action}`),
    custom_id: buildCustomId({ action, jobId: summary.jobId, ownerId: job.userId }),
  });
  return {
    content: '',
    embeds: [
      {
        title: uiText(locale, 'worker.result.title'),
        color: 0x8e6cef,
        fields: [
          { name: uiText(locale, 'worker.result.shape'), value: presetLabel(job.shapePresetId, locale), inline: true },
          { name: uiText(locale, 'worker.result.color'), value: presetLabel(job.colorPresetId, locale), inline: true },
        ],
        description: uiText(locale, 'worker.result.timing', {
          seconds: seconds(summary.totalMs),
          queueSeconds: seconds(summary.queuedMs),
          gpuSeconds: seconds(summary.pipelineMs),
        }),
        image: { url: `attachment://${filename}`, width: image.width, height: image.height },
        footer: { text: uiText(locale, 'worker.result.footer') },
      },
    ],
    components: [
      { type: 1, components: [button('recolor', 1), button('reshape', 1), button('retry', 2), button('delete', 4)] },
    ],
    attachments: [{ id: 0, filename }],
  };
}

/** A Discord failure → HairError without the URL (it holds the interaction token) or the request body. */
function toDeliveryError(error: unknown, what: string, secrets: readonly string[]): HairError {
  if (error instanceof HairError) return error;
  if (error instanceof DiscordAPIError || error instanceof HTTPError) {
    const code = error instanceof DiscordAPIError ? error.code : 'http';
    const detail = `Discord answered ${error.status} (${code}) to ${error.method} ${what}`;
    const retryable = error.status >= 500 || error.status === 429;
    return new HairError(retryable ? 'DISCORD_UNAVAILABLE' : 'INTERNAL', { status: error.status }, { detail });
  }
  const name = (error as Error | null)?.name ?? 'Error';
  const message = scrub(String((error as Error | null)?.message ?? error), secrets);
  if (isNetworkError(error)) return new HairError('DISCORD_UNAVAILABLE', {}, { detail: `${name} during ${what}: ${message}` });
  return new HairError('INTERNAL', {}, { detail: `${name} during ${what}: ${message}`, cause: error });
}

/** Connection failures and timeouts are transient; anything else thrown here is a bug. */
function isNetworkError(error: unknown): boolean {
  const e = error as { name?: string; message?: string; code?: string; cause?: { code?: string } } | null;
  if (!e) return false;
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return true;
  const code = e.code ?? e.cause?.code ?? '';
  return /^(ECONN|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|UND_ERR)/.test(code) || e.message === 'fetch failed';
}

function scrub(text: string, secrets: readonly string[]): string {
  return secrets.reduce((out, secret) => (secret ? out.split(secret).join('[redacted]') : out), text);
}

function isWebhookGone(error: unknown): boolean {
  return error instanceof DiscordAPIError && typeof error.code === 'number' && WEBHOOK_GONE.has(error.code);
}

/**
 * Posts results and errors to Discord with @discordjs/rest: edits the deferred interaction reply while its token
 * lives, else (or when Discord says the token is gone) posts in the channel with the bot token, mentioning the user.
 */
export function createDelivery(config: DeliveryConfig, deps: DeliveryDeps): Delivery<DiscordTryOnJobData> {
  const rest =
    deps.rest ??
    new REST({
      version: '10',
      api: config.DISCORD_API_URL,
      retries: 2,
      timeout: 15_000,
      // Node's fetch, not @discordjs/rest's nested undici 6: whichever undici loads first owns the process-wide
      // dispatcher, and undici 7 (our downloads) cannot send undici 6's multipart bodies ("action is not a function").
      makeRequest: fetch as unknown as RESTOptions['makeRequest'],
    }).setToken(config.DISCORD_TOKEN ?? '');
  const now = deps.now ?? Date.now;

  const tokenAlive = (job: DiscordTryOnJobData) => now() - job.reply.interactionAt < INTERACTION_TOKEN_TTL_MS - TOKEN_MARGIN_MS;

  async function send(job: DiscordTryOnJobData, body: MessageBody, files: RawFile[], mention: string, signal?: AbortSignal): Promise<DeliveredMessage> {
    if (tokenAlive(job)) {
      const route: Route = `/webhooks/${job.reply.applicationId}/${job.reply.interactionToken}/messages/@original`;
      try {
        const message = (await rest.patch(route, { auth: false, body, files, signal })) as { id?: string };
        return { via: 'interaction', ...(message?.id ? { messageId: message.id } : {}) };
      } catch (error) {
        if (!isWebhookGone(error)) throw toDeliveryError(error, 'the interaction reply edit', [job.reply.interactionToken]);
        deps.logger.info({ discordCode: (error as DiscordAPIError).code }, 'interaction token no longer valid; posting in the channel');
      }
    }
    if (!config.DISCORD_TOKEN) throw new HairError('CONFIG_INVALID', { problems: 'DISCORD_TOKEN' }, { detail: 'channel fallback needs DISCORD_TOKEN' });
    const route: Route = `/channels/${job.channelId}/messages`;
    try {
      const channelBody = { ...body, content: mention, allowed_mentions: { users: [job.userId], parse: [] } };
      const message = (await rest.post(route, { body: channelBody, files, signal })) as { id?: string };
      return { via: 'channel', ...(message?.id ? { messageId: message.id } : {}) };
    } catch (error) {
      throw toDeliveryError(error, 'the channel message', [job.reply.interactionToken, config.DISCORD_TOKEN ?? '']);
    }
  }

  return {
    async deliverResult(job, image, summary, signal) {
      const filename = `hairstyle.${image.format === 'jpeg' ? 'jpg' : image.format}`;
      const files: RawFile[] = [{ name: filename, data: image.data, contentType: `image/${image.format}`, key: 'files[0]' }];
      const mention = uiText(job.locale, 'worker.result.mention', { userId: job.userId });
      return send(job, resultBody(job, image, summary, filename), files, mention, signal);
    },

    async deliverError(job, jobId, error) {
      const { code, params } = userVisibleFailure(error, jobId);
      const message = errorMessage(job.locale, code, params);
      const body: MessageBody = { content: `⚠️ ${message}`, embeds: [], components: [], attachments: [] };
      const mention = uiText(job.locale, 'worker.error.mention', { userId: job.userId, message });
      return send(job, body, [], mention);
    },
  };
}

import { DiscordAPIError, HTTPError, REST, RequestMethod, type RawFile, type RequestData, type RESTOptions } from '@discordjs/rest';
import {
  APIVersion, ButtonStyle, ComponentType, MessageFlags, RESTJSONErrorCodes, Routes,
  type APIActionRowComponent, type APIButtonComponentWithCustomId, type APIEmbed, type APIMessage, type APIMessageTopLevelComponent,
} from 'discord-api-types/v10';
import { HairError, type ErrorCode, type ErrorParams } from '../shared/errors.js';
import { errorMessage, uiText, type Locale } from '../shared/i18n/index.js';
import {
  buildCustomId, INTERACTION_TOKEN_TTL_MS, parseCustomId, type DiscordTryOnJobData, type StudioTryOnJobData, type TryOnJobData,
} from '../shared/job.js';
import type { Logger } from '../shared/log.js';
import { presetSlug } from '../shared/presets.js';
import type { EncodedResult } from './encode-result.js';

/** Discord JSON error codes after which the interaction reply cannot be edited: post in the channel instead. */
const WEBHOOK_GONE = new Set<number>([RESTJSONErrorCodes.InvalidWebhookToken, RESTJSONErrorCodes.UnknownWebhook, RESTJSONErrorCodes.UnknownMessage]);
/** Edits later than this before the token's 15 minutes are up go to the channel (the upload itself takes time). */
const TOKEN_MARGIN_MS = 60_000;
/** Discord's limit for a message nonce. */
const NONCE_MAX = 25;

export interface DeliveryConfig {
  DISCORD_API_URL: string;
  /** The bot token: for the channel fallback, direct messages and removing a stale placeholder. */
  DISCORD_TOKEN?: string | undefined;
}

export interface DeliveryDeps {
  logger: Logger;
  /** A prepared REST client (tests); otherwise one is made from the config. */
  rest?: REST;
  now?: () => number;
}

export interface DeliveredMessage {
  /**
   * interaction: the deferred reply (result) or a private follow-up (error); direct-message / channel: the token was
   * gone; studio: the job's studio took it.
   */
  via: 'interaction' | 'channel' | 'direct-message' | 'studio';
  messageId?: string | undefined;
}

export interface ResultSummary {
  jobId: string;
  /** ms: total (request → now), queued, pipeline. */
  totalMs: number;
  queuedMs: number;
  pipelineMs: number;
}

/** A Discord job's interaction token, read from Redis by the caller (undefined once it expired; unused by the studio). */
export type ReplyToken = string | undefined;

/** Tells the requester how their try-on ended; one implementation per reply target (Discord, studio). */
export interface Delivery<Job = TryOnJobData> {
  deliverResult(job: Job, token: ReplyToken, image: EncodedResult, summary: ResultSummary, signal?: AbortSignal): Promise<DeliveredMessage>;
  /** Best effort is the caller's choice: this throws like deliverResult does. */
  deliverError(job: Job, token: ReplyToken, jobId: string, error: HairError): Promise<DeliveredMessage>;
  /**
   * What an earlier run of this job left behind, for a run that took over an unfinished claim: the result (its
   * buttons carry the job id) or, for an error, the public reply already taken down. Undefined: nothing seen.
   */
  findEarlierDelivery(job: Job, token: ReplyToken, jobId: string, kind: 'result' | 'error'): Promise<DeliveredMessage | undefined>;
}

/** One Delivery for every job: Discord jobs to Discord, studio jobs back to their studio. */
export function routeDelivery(targets: { discord: Delivery<DiscordTryOnJobData>; studio: Delivery<StudioTryOnJobData> }): Delivery {
  return {
    deliverResult: (job, token, image, summary, signal) =>
      job.via === 'studio' ? targets.studio.deliverResult(job, token, image, summary, signal) : targets.discord.deliverResult(job, token, image, summary, signal),
    deliverError: (job, token, jobId, error) =>
      job.via === 'studio' ? targets.studio.deliverError(job, token, jobId, error) : targets.discord.deliverError(job, token, jobId, error),
    findEarlierDelivery: (job, token, jobId, kind) =>
      job.via === 'studio' ? targets.studio.findEarlierDelivery(job, token, jobId, kind) : targets.discord.findEarlierDelivery(job, token, jobId, kind),
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
  embeds: APIEmbed[];
  components: APIMessageTopLevelComponent[];
  attachments: Array<{ id: number; filename: string }>;
  flags?: number;
  allowed_mentions?: { users: string[]; parse: string[] };
}

function presetLabel(presetId: string | undefined, label: string | undefined, locale: Locale): string {
  if (!presetId) return uiText(locale, 'worker.result.sameAsFace');
  return label ?? presetSlug(presetId);
}

const seconds = (ms: number) => (ms / 1000).toFixed(1);

function resultBody(job: DiscordTryOnJobData, image: EncodedResult, summary: ResultSummary, filename: string): MessageBody {
  const { locale } = job;
  const button = (action: 'recolor' | 'reshape' | 'retry' | 'delete', style: APIButtonComponentWithCustomId['style']): APIButtonComponentWithCustomId => ({
    type: ComponentType.Button,
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
          { name: uiText(locale, 'worker.result.shape'), value: presetLabel(job.shapePresetId, job.labels.shape, locale), inline: true },
          { name: uiText(locale, 'worker.result.color'), value: presetLabel(job.colorPresetId, job.labels.color, locale), inline: true },
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
      {
        type: ComponentType.ActionRow,
        components: [button('recolor', ButtonStyle.Primary), button('reshape', ButtonStyle.Primary), button('retry', ButtonStyle.Secondary), button('delete', ButtonStyle.Danger)],
      } satisfies APIActionRowComponent<APIButtonComponentWithCustomId>,
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
    return retryable ? new HairError('DISCORD_UNAVAILABLE', { status: error.status }, { detail }) : new HairError('INTERNAL', { status: error.status }, { detail });
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

/** One message per job in a channel: Discord returns the earlier message for a repeated nonce (enforce_nonce). */
function nonceFor(jobId: string): string {
  return jobId.slice(-NONCE_MAX);
}

/** A 2xx answer is a success whatever its body; a JSON body gives the message id. */
async function messageIdOf(response: { text(): Promise<string> }): Promise<string | undefined> {
  const text = await response.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as { id?: unknown } | null;
    return typeof parsed?.id === 'string' ? parsed.id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Posts results and errors to Discord with @discordjs/rest.
 * - A result edits the deferred (public) reply while the token lives, else it is posted in the channel with a
 *   mention and the stale "working on it" message is removed with the bot token.
 * - An error is private: the public reply is removed and the message goes in an ephemeral follow-up. Without a
 *   token it goes by direct message; if the member takes none, the channel only hears that the try-on failed.
 */
export function createDelivery(config: DeliveryConfig, deps: DeliveryDeps): Delivery<DiscordTryOnJobData> {
  const rest =
    deps.rest ??
    new REST({
      version: APIVersion,
      api: config.DISCORD_API_URL,
      retries: 2,
      timeout: 15_000,
      // Node's fetch, not @discordjs/rest's nested undici 6: whichever undici loads first owns the process-wide
      // dispatcher, and undici 7 (our downloads) cannot send undici 6's multipart bodies ("action is not a function").
      makeRequest: fetch as unknown as RESTOptions['makeRequest'],
    }).setToken(config.DISCORD_TOKEN ?? '');
  const now = deps.now ?? Date.now;
  const log = deps.logger;

  const tokenAlive = (job: DiscordTryOnJobData, token: ReplyToken): token is string =>
    token !== undefined && now() - job.reply.interactionAt < INTERACTION_TOKEN_TTL_MS - TOKEN_MARGIN_MS;

  /** Sends a request; any 2xx is a success (a body that is not JSON included). Errors carry no token. */
  async function call(method: RequestMethod, route: Route, options: RequestData, what: string, secrets: readonly string[]) {
    try {
      const response = await rest.queueRequest({ ...options, fullRoute: route, method });
      return method === RequestMethod.Delete ? undefined : await messageIdOf(response);
    } catch (error) {
      if (isWebhookGone(error)) throw error;
      throw toDeliveryError(error, what, secrets);
    }
  }

  const original = (job: DiscordTryOnJobData, token: string): Route => Routes.webhookMessage(job.reply.applicationId, token, '@original');

  function requireBotToken(what: string): void {
    if (!config.DISCORD_TOKEN) throw new HairError('CONFIG_INVALID', { problems: 'DISCORD_TOKEN' }, { detail: `${what} needs DISCORD_TOKEN` });
  }

  /** The deferred reply once its token is gone: deleted with the bot token so no "working on it" stays behind. */
  async function removePlaceholder(job: DiscordTryOnJobData): Promise<void> {
    if (!job.reply.messageId || !config.DISCORD_TOKEN) return;
    await call(RequestMethod.Delete, Routes.channelMessage(job.channelId, job.reply.messageId), {}, 'the placeholder removal', [config.DISCORD_TOKEN]).catch(
      (error: unknown) => log.debug({ code: (error as HairError).code }, 'could not remove the stale placeholder'),
    );
  }

  async function postInChannel(job: DiscordTryOnJobData, jobId: string, body: MessageBody, files: RawFile[], mention: string, signal?: AbortSignal): Promise<DeliveredMessage> {
    requireBotToken('the channel fallback');
    const channelBody = { ...body, content: mention, allowed_mentions: { users: [job.userId], parse: [] }, nonce: nonceFor(jobId), enforce_nonce: true };
    const messageId = await call(RequestMethod.Post, Routes.channelMessages(job.channelId), { body: channelBody, files, ...(signal ? { signal } : {}) }, 'the channel message', [config.DISCORD_TOKEN ?? '']);
    await removePlaceholder(job);
    return { via: 'channel', messageId };
  }

  /** A private notice without a token: a direct message; null when the member does not take them. */
  async function directMessage(job: DiscordTryOnJobData, jobId: string, content: string): Promise<DeliveredMessage | null> {
    requireBotToken('a direct message');
    const secrets = [config.DISCORD_TOKEN ?? ''];
    try {
      const channel = (await rest.post(Routes.userChannels(), { body: { recipient_id: job.userId } })) as Partial<Pick<APIMessage, 'id'>>;
      if (!channel?.id) return null;
      const messageId = await call(RequestMethod.Post, Routes.channelMessages(channel.id), { body: { content, nonce: nonceFor(jobId), enforce_nonce: true, allowed_mentions: { parse: [] } } }, 'the direct message', secrets);
      return { via: 'direct-message', messageId };
    } catch (error) {
      // CannotSendMessagesToThisUser: the member takes no direct messages from this server; any refusal is alike.
      if (error instanceof DiscordAPIError && error.status < 500 && error.status !== 429) return null;
      throw toDeliveryError(error, 'the direct message', secrets);
    }
  }

  return {
    async deliverResult(job, token, image, summary, signal) {
      const filename = `hairstyle.${image.format === 'jpeg' ? 'jpg' : image.format}`;
      const files: RawFile[] = [{ name: filename, data: image.data, contentType: `image/${image.format}`, key: 'files[0]' }];
      const body = resultBody(job, image, summary, filename);
      if (tokenAlive(job, token)) {
        try {
          const messageId = await call(RequestMethod.Patch, original(job, token), { auth: false, body, files, ...(signal ? { signal } : {}) }, 'the interaction reply edit', [token]);
          return { via: 'interaction', messageId };
        } catch (error) {
          if (!isWebhookGone(error)) throw error;
          log.info({ discordCode: (error as DiscordAPIError).code }, 'interaction token no longer valid; posting in the channel');
        }
      }
      const mention = uiText(job.locale, 'worker.result.mention', { userId: job.userId });
      return postInChannel(job, summary.jobId, body, files, mention, signal);
    },

    async deliverError(job, token, jobId, error) {
      const { code, params } = userVisibleFailure(error, jobId);
      const message = errorMessage(job.locale, code, params);
      if (tokenAlive(job, token)) {
        try {
          // The deferred reply is public: take it down, then say it privately.
          await call(RequestMethod.Delete, original(job, token), { auth: false }, 'the public reply removal', [token]).catch((e: unknown) => {
            if (!(e instanceof DiscordAPIError && e.code === RESTJSONErrorCodes.UnknownMessage)) throw e; // already gone: fine
          });
          const body: MessageBody = { content: `⚠️ ${message}`, embeds: [], components: [], attachments: [], flags: MessageFlags.Ephemeral, allowed_mentions: { users: [], parse: [] } };
          const messageId = await call(RequestMethod.Post, Routes.webhook(job.reply.applicationId, token), { auth: false, body }, 'the private error follow-up', [token]);
          return { via: 'interaction', messageId };
        } catch (e) {
          if (!isWebhookGone(e)) throw e;
          log.info({ discordCode: (e as DiscordAPIError).code }, 'interaction token no longer valid; telling the member directly');
        }
      }
      await removePlaceholder(job);
      const direct = await directMessage(job, jobId, `⚠️ ${message}`);
      if (direct) return direct;
      // No private way left: the channel learns only that it failed, never why (a selfie's problems stay private).
      const mention = uiText(job.locale, 'worker.error.mention', { userId: job.userId });
      return postInChannel(job, jobId, { content: '', embeds: [], components: [], attachments: [] }, [], mention);
    },

    async findEarlierDelivery(job, token, jobId, kind) {
      if (!tokenAlive(job, token)) return undefined; // the channel and DM paths repeat safely (enforce_nonce)
      try {
        const message = (await rest.get(original(job, token), { auth: false })) as {
          id?: string;
          components?: Array<{ components?: Array<{ custom_id?: string }> }>;
        };
        const ours = (message?.components ?? []).some((row) =>
          (row.components ?? []).some((c) => {
            const id = c.custom_id ? parseCustomId(c.custom_id) : null;
            return id?.action === 'retry' && id.jobId === jobId;
          }));
        return kind === 'result' && ours ? { via: 'interaction', messageId: message.id } : undefined;
      } catch (error) {
        // The error path takes the public reply down before its private follow-up.
        if (kind === 'error' && error instanceof DiscordAPIError && error.code === RESTJSONErrorCodes.UnknownMessage) return { via: 'interaction' };
        return undefined;
      }
    },
  };
}

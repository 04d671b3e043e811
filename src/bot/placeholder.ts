import { DiscordAPIError, RESTJSONErrorCodes, Routes, type REST, type RESTPatchAPIWebhookWithTokenMessageJSONBody } from 'discord.js';
import { redisKeys, type DiscordTryOnJobData } from '../shared/index.js';
import type { BotContext } from './context.js';

/**
 * The deferred "queued / working on it" message of a try-on. While the interaction token lives it is edited through
 * the token (kept in Redis, never in the job); after that through the bot token and the message id the job carries,
 * so no stale "working on it" or dead Cancel button stays behind. False: nothing could be edited.
 */
export async function editPlaceholder(
  ctx: Pick<BotContext, 'redis' | 'config'>,
  rest: REST,
  jobId: string,
  job: Pick<DiscordTryOnJobData, 'reply' | 'channelId'>,
  body: RESTPatchAPIWebhookWithTokenMessageJSONBody,
): Promise<boolean> {
  const token = await ctx.redis.get(redisKeys(ctx.config.QUEUE_PREFIX).replyToken(jobId));
  if (token) {
    try {
      await rest.patch(Routes.webhookMessage(job.reply.applicationId, token, '@original'), { body, auth: false });
      return true;
    } catch (error) {
      // Invalid or unknown webhook token (Discord ended it early): the bot token still reaches the message.
      if (!(error instanceof DiscordAPIError && (error.code === RESTJSONErrorCodes.InvalidWebhookToken || error.code === RESTJSONErrorCodes.UnknownWebhook))) throw error;
    }
  }
  if (!job.reply.messageId) return false;
  await rest.patch(Routes.channelMessage(job.channelId, job.reply.messageId), { body });
  return true;
}

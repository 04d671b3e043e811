import { ActionRowBuilder, ButtonBuilder, ButtonStyle, DiscordAPIError, RESTJSONErrorCodes, type MessageComponentInteraction, type RepliableInteraction } from 'discord.js';
import type { z } from 'zod';
import { buildCustomId, HairError, tryOnJobId, type Locale, type TryOnJobInput, type tryOnOriginSchema } from '../shared/index.js';
import type { BotContext } from './context.js';
import { relativeTime } from './limits.js';
import { localeOf, t } from './localize.js';

/** What a member chose: the selfie, the presets, how they started it (the job adds who, where and the reply). */
export type TryOnChoice = Pick<TryOnJobInput, 'selfie' | 'shapePresetId' | 'colorPresetId' | 'mode'> & {
  origin: z.infer<typeof tryOnOriginSchema>;
};

/** The "queued" message: position, ETA and a cancel button (its customId carries the job and the owner). */
export function queuedView(locale: Locale, jobId: string, ownerId: string, position: number, etaAt: number) {
  return {
    content: t(locale, 'try.queued', { position, eta: relativeTime(etaAt) }),
    components: [cancelRow(locale, jobId, ownerId)],
  };
}

export function cancelRow(locale: Locale, jobId: string, ownerId: string) {
  return new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder().setCustomId(buildCustomId({ action: 'cancel', jobId, ownerId })).setStyle(ButtonStyle.Secondary).setLabel(t(locale, 'button.cancel')),
  );
}

/** The id of the deferred reply, for edits once the token is gone (it lives 15 minutes). */
async function deferredMessageId(interaction: RepliableInteraction | MessageComponentInteraction): Promise<string | undefined> {
  if (!interaction.deferred && !interaction.replied) {
    const response = await interaction.deferReply({ withResponse: true });
    return response.resource?.message?.id ?? undefined;
  }
  return (await interaction.fetchReply().catch(() => undefined))?.id;
}

/**
 * Limits, then defer (public: the result is posted here), then enqueue, then the queued message. The job id comes
 * from the interaction id (tryOnJobId), so a double submission cannot queue twice. The token goes to Redis beside the
 * job (never into it) for the worker's reply; the presets' names in the member's language go with the job.
 */
export async function startTryOn(interaction: RepliableInteraction | MessageComponentInteraction, ctx: BotContext, request: TryOnChoice): Promise<void> {
  const locale = localeOf(interaction);
  const guildId = interaction.guildId;
  const channelId = interaction.channelId;
  if (!guildId || !channelId) throw new HairError('INTERNAL', {}, { detail: 'try-on outside a guild' });
  if (!request.shapePresetId && !request.colorPresetId) throw new HairError('NEED_SHAPE_OR_COLOR');
  if (await ctx.enqueuer.isPaused()) throw new HairError('QUEUE_PAUSED');
  const jobId = tryOnJobId(interaction.id);
  const reservation = { guildId, userId: interaction.user.id, jobId };
  await ctx.limits.reserve(reservation);
  let enqueued;
  try {
    const [messageId, labels] = await Promise.all([
      deferredMessageId(interaction),
      ctx.presets.labels(guildId, locale, { shape: request.shapePresetId, color: request.colorPresetId }),
    ]);
    enqueued = await ctx.enqueuer.enqueueTryOn(jobId, {
      guildId,
      channelId,
      userId: interaction.user.id,
      locale,
      reply: { applicationId: interaction.applicationId, interactionAt: interaction.createdTimestamp, ...(messageId ? { messageId } : {}) },
      selfie: request.selfie,
      ...(request.shapePresetId ? { shapePresetId: request.shapePresetId } : {}),
      ...(request.colorPresetId ? { colorPresetId: request.colorPresetId } : {}),
      labels,
      ...(request.mode ? { mode: request.mode } : {}),
      origin: request.origin,
      requestedAt: Date.now(),
    }, interaction.token);
  } catch (error) {
    await ctx.limits.release(reservation);
    throw error;
  }
  await interaction.editReply(queuedView(locale, jobId, interaction.user.id, enqueued.position, enqueued.etaAt)).catch((error: unknown) => {
    // A fast worker already answered (a private error removes this reply): nothing left to show here.
    if (!(error instanceof DiscordAPIError && error.code === RESTJSONErrorCodes.UnknownMessage)) throw error;
  });
}

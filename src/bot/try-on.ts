import { ActionRowBuilder, ButtonBuilder, ButtonStyle, type MessageComponentInteraction, type RepliableInteraction } from 'discord.js';
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

/**
 * Limits, then defer (public: the result is posted here), then enqueue, then the queued message. The job id comes
 * from the interaction id (tryOnJobId), so a double submission cannot queue twice. The token travels in the job for the worker's reply.
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
    if (!interaction.deferred && !interaction.replied) await interaction.deferReply();
    enqueued = await ctx.enqueuer.enqueueTryOn(jobId, {
      guildId,
      channelId,
      userId: interaction.user.id,
      locale,
      reply: { applicationId: interaction.applicationId, interactionToken: interaction.token, interactionAt: interaction.createdTimestamp },
      selfie: request.selfie,
      ...(request.shapePresetId ? { shapePresetId: request.shapePresetId } : {}),
      ...(request.colorPresetId ? { colorPresetId: request.colorPresetId } : {}),
      ...(request.mode ? { mode: request.mode } : {}),
      origin: request.origin,
      requestedAt: Date.now(),
    });
  } catch (error) {
    await ctx.limits.release(reservation);
    throw error;
  }
  await interaction.editReply(queuedView(locale, jobId, interaction.user.id, enqueued.position, enqueued.etaAt));
}

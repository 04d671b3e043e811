import { MessageFlags } from 'discord.js';
import { CUSTOM_ID_PREFIX, HairError, parseCustomId } from '../../shared/index.js';
import type { ComponentHandler } from '../context.js';
import { pickView } from '../draft.js';
import { localeOf, t } from '../localize.js';
import { startTryOn } from '../try-on.js';
import { assertOwner } from './owner.js';
import { PICK_PREFIX } from './preset-picks.js';

/**
 * `hair:<action>:<jobId>:<ownerId>` (the shared contract's ids, put on results by the worker and on queued
 * messages by the bot). Everything needed is in the id or in the job kept in Redis.
 */
export const resultButtons: ComponentHandler = {
  prefix: CUSTOM_ID_PREFIX,
  async handle(interaction, ctx) {
    const parsed = parseCustomId(interaction.customId);
    if (!parsed) throw new HairError('JOB_NOT_FOUND');
    assertOwner(interaction, parsed.ownerId);
    const locale = localeOf(interaction);
    const { action, jobId, ownerId } = parsed;
    if (action === 'delete') {
      await interaction.deferUpdate();
      await interaction.deleteReply();
      return;
    }
    if (action === 'cancel') {
      const outcome = await ctx.enqueuer.cancel(jobId, ownerId);
      if (outcome === 'finished') throw new HairError('JOB_NOT_FOUND');
      if (outcome === 'removed') await ctx.limits.jobEnded(ownerId, jobId);
      await interaction.update({ content: t(locale, 'cancel.done', { count: 1 }), components: [] });
      return;
    }
    const job = await ctx.enqueuer.getTryOn(jobId);
    if (!job) throw new HairError('JOB_NOT_FOUND');
    if (action === 'retry') {
      const { selfie, shapePresetId, colorPresetId, mode } = job.data;
      await startTryOn(interaction, ctx, { selfie, shapePresetId, colorPresetId, mode, origin: 'retry' });
      return;
    }
    const slot = action === 'recolor' ? 'color' : 'shape';
    const view = await pickView(ctx, interaction.guildId!, locale, slot, `${PICK_PREFIX}:${slot}:${jobId}:${ownerId}`);
    await interaction.reply({ ...view, flags: MessageFlags.Ephemeral });
  },
};

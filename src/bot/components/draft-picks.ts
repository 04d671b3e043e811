import { HairError } from '../../shared/index.js';
import type { ComponentHandler } from '../context.js';
import { deleteDraft, DRAFT_PREFIX, loadDraft, saveDraft } from '../draft.js';
import { startTryOn } from '../try-on.js';
import { assertOwner } from './owner.js';

/** `hairctx:shape|color|go:<draftId>`: the context-menu pickers. Picks go to Redis, so a restart loses nothing. */
export const draftPicks: ComponentHandler = {
  prefix: DRAFT_PREFIX,
  async handle(interaction, ctx) {
    const [, field, draftId] = interaction.customId.split(':');
    const draft = draftId ? await loadDraft(ctx, draftId) : undefined;
    if (!draft || !draftId) throw new HairError('JOB_NOT_FOUND');
    assertOwner(interaction, draft.userId);
    if ((field === 'shape' || field === 'color') && interaction.isStringSelectMenu()) {
      const value = interaction.values[0];
      if (value) await ctx.presets.resolve(interaction.guildId!, field, value);
      await saveDraft(ctx, draftId, { [field]: value ?? '' });
      await interaction.deferUpdate();
      return;
    }
    if (field === 'go') {
      if (!draft.shape && !draft.color) throw new HairError('NEED_SHAPE_OR_COLOR');
      await startTryOn(interaction, ctx, { selfie: draft.selfie, shapePresetId: draft.shape || undefined, colorPresetId: draft.color || undefined, origin: 'context-menu' });
      await deleteDraft(ctx, draftId);
    }
  },
};

import { HairError } from '../../shared/index.js';
import type { ComponentHandler } from '../context.js';
import { startTryOn } from '../try-on.js';
import { assertOwner } from './owner.js';

export const PICK_PREFIX = 'hairpick';

/** `hairpick:<color|shape>:<jobId>:<ownerId>`: another color or shape for a finished job's photo. */
export const presetPicks: ComponentHandler = {
  prefix: PICK_PREFIX,
  async handle(interaction, ctx) {
    const [, slot, jobId, ownerId] = interaction.customId.split(':');
    if ((slot !== 'color' && slot !== 'shape') || !jobId || !ownerId || !interaction.isStringSelectMenu()) throw new HairError('JOB_NOT_FOUND');
    assertOwner(interaction, ownerId);
    const job = await ctx.enqueuer.getTryOn(jobId);
    if (!job) throw new HairError('JOB_NOT_FOUND');
    const value = interaction.values[0];
    if (!value) throw new HairError('NEED_SHAPE_OR_COLOR');
    const preset = await ctx.presets.resolve(interaction.guildId!, slot, value);
    const { selfie, shapePresetId, colorPresetId, mode } = job.data;
    await startTryOn(interaction, ctx, {
      selfie, mode, origin: 'recolor',
      shapePresetId: slot === 'shape' ? preset.id : shapePresetId,
      colorPresetId: slot === 'color' ? preset.id : colorPresetId,
    });
  },
};

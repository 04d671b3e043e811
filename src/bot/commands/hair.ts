import { InteractionContextType, MessageFlags, SlashCommandBuilder, type AutocompleteInteraction, type ChatInputCommandInteraction } from 'discord.js';
import { HairError, INTERACTION_TOKEN_TTL_MS, JOB_RETENTION_S, type Locale, type PresetSlot } from '../../shared/index.js';
import { checkInteractionAttachment } from '../attachment-check.js';
import type { BotContext, SlashCommand } from '../context.js';
import { galleryPage, type GalleryFilter } from '../gallery.js';
import { relativeTime } from '../limits.js';
import { both, localeOf, t } from '../localize.js';
import { editPlaceholder } from '../placeholder.js';
import { startTryOn } from '../try-on.js';

const data = new SlashCommandBuilder()
  .setName('hair')
  .setNameLocalizations({ ko: '헤어' })
  .setDescription(both('cmd.hair')[0])
  .setDescriptionLocalizations(both('cmd.hair')[1])
  .setContexts(InteractionContextType.Guild)
  .addSubcommand((sub) => sub
    .setName('try').setNameLocalizations({ ko: '합성' })
    .setDescription(both('cmd.hair.try')[0]).setDescriptionLocalizations(both('cmd.hair.try')[1])
    .addAttachmentOption((o) => o.setName('image').setNameLocalizations({ ko: '사진' }).setRequired(true)
      .setDescription(both('cmd.opt.image')[0]).setDescriptionLocalizations(both('cmd.opt.image')[1]))
    .addStringOption((o) => o.setName('shape').setNameLocalizations({ ko: '모양' }).setAutocomplete(true).setMaxLength(100)
      .setDescription(both('cmd.opt.shape')[0]).setDescriptionLocalizations(both('cmd.opt.shape')[1]))
    .addStringOption((o) => o.setName('color').setNameLocalizations({ ko: '색상' }).setAutocomplete(true).setMaxLength(100)
      .setDescription(both('cmd.opt.color')[0]).setDescriptionLocalizations(both('cmd.opt.color')[1])))
  .addSubcommand((sub) => sub
    .setName('presets').setNameLocalizations({ ko: '프리셋' })
    .setDescription(both('cmd.hair.presets')[0]).setDescriptionLocalizations(both('cmd.hair.presets')[1])
    .addStringOption((o) => o.setName('kind').setNameLocalizations({ ko: '종류' })
      .setDescription(both('cmd.opt.kind')[0]).setDescriptionLocalizations(both('cmd.opt.kind')[1])
      .addChoices(
        { name: 'shape', name_localizations: { ko: '모양' }, value: 'shape' },
        { name: 'color', name_localizations: { ko: '색상' }, value: 'color' },
      )))
  .addSubcommand((sub) => sub.setName('queue').setNameLocalizations({ ko: '대기열' })
    .setDescription(both('cmd.hair.queue')[0]).setDescriptionLocalizations(both('cmd.hair.queue')[1]))
  .addSubcommand((sub) => sub.setName('cancel').setNameLocalizations({ ko: '취소' })
    .setDescription(both('cmd.hair.cancel')[0]).setDescriptionLocalizations(both('cmd.hair.cancel')[1]))
  .addSubcommand((sub) => sub.setName('privacy').setNameLocalizations({ ko: '개인정보' })
    .setDescription(both('cmd.hair.privacy')[0]).setDescriptionLocalizations(both('cmd.hair.privacy')[1]));

/** What is kept and for how long, from the numbers the code uses (JOB_RETENTION_S, the token's lifetime). */
export function privacyText(locale: Locale): string {
  return t(locale, 'privacy.text', {
    completedHours: JOB_RETENTION_S.tryOnCompleted / 3600,
    failedHours: JOB_RETENTION_S.tryOnFailed / 3600,
    tokenMinutes: INTERACTION_TOKEN_TTL_MS / 60_000,
  });
}

async function tryCommand(interaction: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
  const guildId = interaction.guildId!;
  const shape = interaction.options.getString('shape');
  const color = interaction.options.getString('color');
  if (!shape && !color) throw new HairError('NEED_SHAPE_OR_COLOR');
  const image = interaction.options.getAttachment('image', true);
  // Independent checks run together: the 3-second window to answer is shared by all of them.
  const [, shapePreset, colorPreset, selfie] = await Promise.all([
    ctx.limits.assertNotBlocked(guildId, interaction.user.id),
    shape ? ctx.presets.resolve(guildId, 'shape', shape) : undefined,
    color ? ctx.presets.resolve(guildId, 'color', color) : undefined,
    checkInteractionAttachment(image, interaction, ctx),
  ]);
  await startTryOn(interaction, ctx, { selfie, shapePresetId: shapePreset?.id, colorPresetId: colorPreset?.id, origin: 'command' });
}

async function queueCommand(interaction: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
  const locale = localeOf(interaction);
  const [counts, mine, workers] = await Promise.all([ctx.enqueuer.counts(), ctx.limits.activeJobs(interaction.user.id), ctx.enqueuer.workersOnline()]);
  const lines = [t(locale, 'queue.summary', { waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0), active: counts.active ?? 0, workers })];
  const mineLines = await Promise.all(mine.map(async (jobId) => {
    const position = await ctx.enqueuer.position(jobId);
    return position
      ? t(locale, 'queue.mineWaiting', { position, eta: relativeTime(await ctx.enqueuer.estimate(position)) })
      : t(locale, 'queue.mineActive');
  }));
  lines.push(...mineLines);
  if (mine.length === 0) lines.push(t(locale, 'queue.mineNone'));
  await interaction.reply({ content: lines.join('\n'), flags: MessageFlags.Ephemeral });
}

async function cancelCommand(interaction: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
  const locale = localeOf(interaction);
  const mine = await ctx.limits.activeJobs(interaction.user.id);
  if (mine.length === 0) throw new HairError('JOB_NOT_FOUND');
  for (const jobId of mine) {
    const job = await ctx.enqueuer.getTryOn(jobId);
    const outcome = await ctx.enqueuer.cancel(jobId, interaction.user.id);
    if (outcome === 'removed') await ctx.limits.jobEnded(interaction.user.id, jobId);
    // A removed job never reaches a worker: take the cancel button off its queued message ourselves.
    if (outcome === 'removed' && job) {
      await editPlaceholder(ctx, interaction.client.rest, jobId, job.data, { content: t(job.data.locale, 'cancel.done', { count: 1 }), components: [] })
        .catch((err: unknown) => ctx.log.debug({ err, jobId }, 'could not update the cancelled job message'));
    }
  }
  await interaction.reply({ content: t(locale, 'cancel.done', { count: mine.length }), flags: MessageFlags.Ephemeral });
}

export const hair: SlashCommand = {
  kind: 'slash',
  data,
  async execute(interaction, ctx) {
    const sub = interaction.options.getSubcommand();
    const locale = localeOf(interaction);
    if (sub === 'try') return await tryCommand(interaction, ctx);
    if (sub === 'presets') {
      const filter = (interaction.options.getString('kind') ?? 'all') as GalleryFilter;
      return void (await interaction.reply({ ...(await galleryPage(ctx, interaction.guildId!, locale, filter, 0)), flags: MessageFlags.Ephemeral }));
    }
    if (sub === 'queue') return await queueCommand(interaction, ctx);
    if (sub === 'cancel') return await cancelCommand(interaction, ctx);
    if (sub === 'privacy') return void (await interaction.reply({ content: privacyText(locale), flags: MessageFlags.Ephemeral }));
  },
  async autocomplete(interaction: AutocompleteInteraction, ctx: BotContext) {
    const focused = interaction.options.getFocused(true);
    const slot: PresetSlot = focused.name === 'color' ? 'color' : 'shape';
    await interaction.respond(await ctx.presets.search(interaction.guildId!, slot, String(focused.value), localeOf(interaction)));
  },
};

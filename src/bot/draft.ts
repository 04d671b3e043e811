import { ActionRowBuilder, ButtonBuilder, ButtonStyle, StringSelectMenuBuilder } from 'discord.js';
import { z } from 'zod';
import { attachmentRefSchema, jsonString, presetName, type Locale, type PresetSlot } from '../shared/index.js';
import type { BotContext } from './context.js';
import { t } from './localize.js';
import { AUTOCOMPLETE_MAX } from './preset-catalog.js';

/** Context-menu drafts: the checked image of the target message plus the member's picks, in Redis for 15 minutes. */
export const DRAFT_PREFIX = 'hairctx';
export const DRAFT_TTL_S = 15 * 60;

const draftSchema = z.object({
  userId: z.string(),
  selfie: jsonString(attachmentRefSchema),
  shape: z.string().optional(),
  color: z.string().optional(),
});
export type Draft = z.infer<typeof draftSchema>;

export async function saveDraft(ctx: BotContext, draftId: string, fields: Record<string, string>): Promise<void> {
  const key = ctx.keys.draft(draftId);
  await ctx.redis.multi().hset(key, fields).expire(key, DRAFT_TTL_S).exec();
}

export async function loadDraft(ctx: BotContext, draftId: string): Promise<Draft | undefined> {
  const raw = await ctx.redis.hgetall(ctx.keys.draft(draftId));
  if (!raw.userId) return undefined;
  return draftSchema.parse(raw);
}

/** The draft became a job (or was given up): its picks and the image URL are not kept. */
export async function deleteDraft(ctx: BotContext, draftId: string): Promise<void> {
  await ctx.redis.del(ctx.keys.draft(draftId));
}

async function presetSelect(ctx: BotContext, guildId: string, locale: Locale, slot: PresetSlot, customId: string) {
  const presets = (await ctx.presets.list(guildId, slot)).slice(0, AUTOCOMPLETE_MAX);
  if (presets.length === 0) return undefined;
  return new ActionRowBuilder<StringSelectMenuBuilder>().addComponents(
    new StringSelectMenuBuilder()
      .setCustomId(customId)
      .setPlaceholder(t(locale, `pick.${slot}`))
      .setMinValues(0)
      .setMaxValues(1)
      .addOptions(presets.map((p) => ({ label: presetName(p, locale).slice(0, 100), value: p.id }))),
  );
}

/** Private select menus for shape and color, and a button that starts the try-on. */
export async function draftView(ctx: BotContext, guildId: string, locale: Locale, draftId: string) {
  const rows = [
    await presetSelect(ctx, guildId, locale, 'shape', `${DRAFT_PREFIX}:shape:${draftId}`),
    await presetSelect(ctx, guildId, locale, 'color', `${DRAFT_PREFIX}:color:${draftId}`),
  ].filter((r) => r !== undefined);
  const go = new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder().setCustomId(`${DRAFT_PREFIX}:go:${draftId}`).setStyle(ButtonStyle.Primary).setLabel(t(locale, 'button.go')),
  );
  return { content: t(locale, 'context.prompt'), components: [...rows, go] };
}

/** Selects for a new color (or shape) of a finished job; the job id and owner travel in the customId. */
export async function pickView(ctx: BotContext, guildId: string, locale: Locale, slot: PresetSlot, customId: string) {
  const row = await presetSelect(ctx, guildId, locale, slot, customId);
  return { content: t(locale, row ? `pick.${slot}` : 'gallery.empty'), components: row ? [row] : [] };
}

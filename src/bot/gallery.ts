import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { ActionRowBuilder, AttachmentBuilder, ButtonBuilder, ButtonStyle, EmbedBuilder } from 'discord.js';
import { presetName, type Locale, type PresetEntry, type PresetSlot } from '../shared/index.js';
import type { BotContext } from './context.js';
import { t } from './localize.js';

export const GALLERY_PREFIX = 'hairgal';
export const GALLERY_PAGE_SIZE = 5;
export type GalleryFilter = PresetSlot | 'all';

const THUMBNAIL_PX = 256;

/** A small JPEG for a gallery: built-ins are shrunk from styles/, guild presets have the worker's thumbnail. */
export async function presetThumbnail(ctx: BotContext, preset: PresetEntry): Promise<Buffer | undefined> {
  if (preset.imagePath && existsSync(preset.imagePath)) {
    return await sharp(await readFile(preset.imagePath)).resize(THUMBNAIL_PX, THUMBNAIL_PX, { fit: 'cover' }).jpeg({ quality: 82 }).toBuffer();
  }
  return await ctx.presets.thumbnail(preset.id);
}

/** One page of presets: an embed per preset with its thumbnail attached, and prev/next buttons (state in customIds). */
export async function galleryPage(ctx: BotContext, guildId: string, locale: Locale, filter: GalleryFilter, page: number) {
  const presets = await ctx.presets.list(guildId, filter === 'all' ? undefined : filter);
  const pages = Math.max(1, Math.ceil(presets.length / GALLERY_PAGE_SIZE));
  const current = Math.min(Math.max(0, page), pages - 1);
  const slice = presets.slice(current * GALLERY_PAGE_SIZE, (current + 1) * GALLERY_PAGE_SIZE);
  const files: AttachmentBuilder[] = [];
  const embeds: EmbedBuilder[] = [];
  for (const [i, preset] of slice.entries()) {
    const embed = new EmbedBuilder()
      .setTitle(presetName(preset, locale))
      .setDescription(`${t(locale, `kind.${preset.kind}`)} · \`${preset.id}\``)
      .setColor(preset.source === 'builtin' ? 0x5865f2 : 0x57f287);
    const bytes = await presetThumbnail(ctx, preset);
    if (bytes) {
      const name = `preset-${i}.jpg`;
      files.push(new AttachmentBuilder(bytes, { name }));
      embed.setThumbnail(`attachment://${name}`);
    }
    embeds.push(embed);
  }
  const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder().setCustomId(`${GALLERY_PREFIX}:${filter}:${current - 1}`).setStyle(ButtonStyle.Secondary).setLabel('◀').setDisabled(current === 0),
    new ButtonBuilder().setCustomId(`${GALLERY_PREFIX}:${filter}:${current + 1}`).setStyle(ButtonStyle.Secondary).setLabel('▶').setDisabled(current >= pages - 1),
  );
  return {
    content: presets.length ? t(locale, 'gallery.header', { page: current + 1, pages, count: presets.length }) : t(locale, 'gallery.empty'),
    embeds,
    files,
    components: presets.length > GALLERY_PAGE_SIZE ? [row] : [],
    attachments: [],
  };
}

import type { ComponentHandler } from '../context.js';
import { GALLERY_PREFIX, galleryPage, type GalleryFilter } from '../gallery.js';
import { localeOf } from '../localize.js';

/** `hairgal:<filter>:<page>`: prev/next in /hair presets. */
export const galleryPages: ComponentHandler = {
  prefix: GALLERY_PREFIX,
  async handle(interaction, ctx) {
    const [, filter, page] = interaction.customId.split(':');
    const f: GalleryFilter = filter === 'shape' || filter === 'color' ? filter : 'all';
    await interaction.update(await galleryPage(ctx, interaction.guildId!, localeOf(interaction), f, Number(page) || 0));
  },
};

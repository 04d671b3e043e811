import type { ComponentHandler } from '../context.js';
import { draftPicks } from './draft-picks.js';
import { galleryPages } from './gallery-pages.js';
import { presetPicks } from './preset-picks.js';
import { resultButtons } from './result-buttons.js';

/** Component handlers by customId prefix (the part before the first ':'). */
export const components: readonly ComponentHandler[] = [resultButtons, presetPicks, draftPicks, galleryPages];

import type { BotCommand } from '../context.js';
import { hairAdmin } from './hair-admin.js';
import { hairPresets } from './hair-presets.js';
import { hair } from './hair.js';
import { tryContext } from './try-context.js';

/** The static command list: the router and scripts/deploy-commands.ts both read it (no directory scan). */
export const commands: readonly BotCommand[] = [hair, tryContext, hairPresets, hairAdmin];

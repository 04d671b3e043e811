import { MessageFlags, type BaseInteraction, type RepliableInteraction } from 'discord.js';
import { toHairError, type HairError } from '../shared/index.js';
import type { BotCommand, BotContext, ComponentHandler } from './context.js';
import { errorText, localeOf } from './localize.js';

/** Sends a HairError to the user, privately and in their language, whatever state the interaction is in. */
export async function replyError(interaction: RepliableInteraction, error: HairError): Promise<void> {
  const content = errorText(localeOf(interaction), error.code, { jobId: interaction.id, ...error.params });
  if (!interaction.deferred && !interaction.replied) {
    await interaction.reply({ content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
  } else if (interaction.ephemeral) {
    await interaction.editReply({ content, embeds: [], components: [], files: [] });
  } else {
    // The first answer was public: take it down and say it privately.
    await interaction.deleteReply().catch(() => undefined);
    await interaction.followUp({ content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
  }
}

/**
 * The one InteractionCreate listener: commands by name, autocomplete by command, components by customId prefix.
 * Every failure becomes a localized private reply; unknown ones are logged with their stack as INTERNAL.
 */
export function createInteractionRouter(ctx: BotContext, commands: readonly BotCommand[], components: readonly ComponentHandler[]) {
  const byName = new Map(commands.map((c) => [c.data.name, c]));
  const byPrefix = new Map(components.map((c) => [c.prefix, c]));

  return async function route(interaction: BaseInteraction): Promise<void> {
    try {
      if (interaction.isAutocomplete()) {
        const command = byName.get(interaction.commandName);
        if (command?.kind === 'slash' && command.autocomplete) await command.autocomplete(interaction, ctx);
        else await interaction.respond([]);
        return;
      }
      if (interaction.isChatInputCommand()) {
        const command = byName.get(interaction.commandName);
        if (command?.kind === 'slash') return await command.execute(interaction, ctx);
      } else if (interaction.isMessageContextMenuCommand()) {
        const command = byName.get(interaction.commandName);
        if (command?.kind === 'message') return await command.execute(interaction, ctx);
      } else if (interaction.isMessageComponent()) {
        const handler = byPrefix.get(interaction.customId.split(':')[0] ?? '');
        if (handler) return await handler.handle(interaction, ctx);
      }
      if (interaction.isRepliable()) ctx.log.warn({ interactionId: interaction.id, type: interaction.type }, 'interaction with no handler');
    } catch (thrown) {
      const error = toHairError(thrown);
      if (error.code === 'INTERNAL' || !error.userFacing) {
        ctx.log.error({ err: thrown, interactionId: interaction.id, code: error.code }, 'interaction failed');
      }
      if (interaction.isAutocomplete()) {
        if (!interaction.responded) await interaction.respond([]).catch(() => undefined);
        return;
      }
      if (interaction.isRepliable()) {
        await replyError(interaction, error).catch((e: unknown) => ctx.log.warn({ err: e, interactionId: interaction.id }, 'could not send the error reply'));
      }
    }
  };
}

import { ApplicationCommandType, ContextMenuCommandBuilder, InteractionContextType, MessageFlags } from 'discord.js';
import { HairError } from '../../shared/index.js';
import { checkInteractionAttachment } from '../attachment-check.js';
import type { MessageMenuCommand } from '../context.js';
import { draftView, saveDraft } from '../draft.js';
import { localeOf } from '../localize.js';

const data = new ContextMenuCommandBuilder()
  .setName('Try a hairstyle')
  .setNameLocalizations({ ko: '헤어스타일 입어보기' })
  .setType(ApplicationCommandType.Message)
  .setContexts(InteractionContextType.Guild);

/** "Try a hairstyle" on a message with an image: check the image, keep a draft, show private pickers. */
export const tryContext: MessageMenuCommand = {
  kind: 'message',
  data,
  async execute(interaction, ctx) {
    const locale = localeOf(interaction);
    await ctx.limits.assertNotBlocked(interaction.guildId!, interaction.user.id);
    const image = interaction.targetMessage.attachments.find((a) => a.contentType?.startsWith('image/') ?? /\.(jpe?g|png|webp|gif|avif|heic)$/i.test(a.name))
      ?? interaction.targetMessage.attachments.first();
    if (!image) throw new HairError('UNSUPPORTED_FORMAT', { contentType: 'none' });
    const selfie = await checkInteractionAttachment(image, interaction, ctx);
    await saveDraft(ctx, interaction.id, { userId: interaction.user.id, selfie: JSON.stringify(selfie) });
    await interaction.reply({ ...(await draftView(ctx, interaction.guildId!, locale, interaction.id)), flags: MessageFlags.Ephemeral });
  },
};

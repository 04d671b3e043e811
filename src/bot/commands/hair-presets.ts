import { AttachmentBuilder, EmbedBuilder, InteractionContextType, MessageFlags, PermissionFlagsBits, SlashCommandBuilder } from 'discord.js';
import { containsTyped, HairError, matchesTypedName, presetKindSchema, presetName } from '../../shared/index.js';
import { checkInteractionAttachment } from '../attachment-check.js';
import type { SlashCommand } from '../context.js';
import { presetThumbnail } from '../gallery.js';
import { relativeTime } from '../limits.js';
import { both, localeOf, t } from '../localize.js';
import { assertManageGuild, assertModerator } from '../moderation.js';
import { AUTOCOMPLETE_MAX } from '../preset-catalog.js';

const data = new SlashCommandBuilder()
  .setName('hair-presets')
  .setNameLocalizations({ ko: '헤어-프리셋' })
  .setDescription(both('cmd.presets')[0]).setDescriptionLocalizations(both('cmd.presets')[1])
  .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
  .setContexts(InteractionContextType.Guild)
  .addSubcommand((s) => s.setName('add').setNameLocalizations({ ko: '추가' }).setDescription(both('cmd.presets.add')[0]).setDescriptionLocalizations(both('cmd.presets.add')[1])
    .addStringOption((o) => o.setName('name').setNameLocalizations({ ko: '이름' }).setDescription(both('cmd.opt.presetName')[0]).setDescriptionLocalizations(both('cmd.opt.presetName')[1]).setRequired(true).setMaxLength(32))
    .addStringOption((o) => o.setName('kind').setNameLocalizations({ ko: '종류' }).setDescription(both('cmd.opt.presetKind')[0]).setDescriptionLocalizations(both('cmd.opt.presetKind')[1]).setRequired(true)
      .addChoices({ name: 'shape', name_localizations: { ko: '모양' }, value: 'shape' }, { name: 'color', name_localizations: { ko: '색상' }, value: 'color' }, { name: 'both', name_localizations: { ko: '둘 다' }, value: 'both' }))
    .addAttachmentOption((o) => o.setName('image').setNameLocalizations({ ko: '사진' }).setDescription(both('cmd.opt.presetImage')[0]).setDescriptionLocalizations(both('cmd.opt.presetImage')[1]).setRequired(true)))
  .addSubcommand((s) => s.setName('remove').setNameLocalizations({ ko: '삭제' }).setDescription(both('cmd.presets.remove')[0]).setDescriptionLocalizations(both('cmd.presets.remove')[1])
    .addStringOption((o) => o.setName('name').setNameLocalizations({ ko: '이름' }).setDescription(both('cmd.opt.presetName')[0]).setDescriptionLocalizations(both('cmd.opt.presetName')[1]).setRequired(true).setAutocomplete(true)))
  .addSubcommand((s) => s.setName('rename').setNameLocalizations({ ko: '이름변경' }).setDescription(both('cmd.presets.rename')[0]).setDescriptionLocalizations(both('cmd.presets.rename')[1])
    .addStringOption((o) => o.setName('name').setNameLocalizations({ ko: '이름' }).setDescription(both('cmd.opt.presetName')[0]).setDescriptionLocalizations(both('cmd.opt.presetName')[1]).setRequired(true).setAutocomplete(true))
    .addStringOption((o) => o.setName('new_name').setNameLocalizations({ ko: '새이름' }).setDescription(both('cmd.opt.newName')[0]).setDescriptionLocalizations(both('cmd.opt.newName')[1]).setRequired(true).setMaxLength(32)))
  .addSubcommand((s) => s.setName('list').setNameLocalizations({ ko: '목록' }).setDescription(both('cmd.presets.list')[0]).setDescriptionLocalizations(both('cmd.presets.list')[1]))
  .addSubcommand((s) => s.setName('preview').setNameLocalizations({ ko: '미리보기' }).setDescription(both('cmd.presets.preview')[0]).setDescriptionLocalizations(both('cmd.presets.preview')[1])
    .addStringOption((o) => o.setName('name').setNameLocalizations({ ko: '이름' }).setDescription(both('cmd.opt.presetName')[0]).setDescriptionLocalizations(both('cmd.opt.presetName')[1]).setRequired(true).setAutocomplete(true)))
  .addSubcommand((s) => s.setName('builtins').setNameLocalizations({ ko: '기본프리셋' }).setDescription(both('cmd.presets.builtins')[0]).setDescriptionLocalizations(both('cmd.presets.builtins')[1])
    .addStringOption((o) => o.setName('state').setNameLocalizations({ ko: '상태' }).setDescription(both('cmd.opt.state')[0]).setDescriptionLocalizations(both('cmd.opt.state')[1]).setRequired(true)
      .addChoices({ name: 'on', name_localizations: { ko: '켜기' }, value: 'on' }, { name: 'off', name_localizations: { ko: '끄기' }, value: 'off' })))
  .addSubcommand((s) => s.setName('role').setNameLocalizations({ ko: '역할' }).setDescription(both('cmd.presets.role')[0]).setDescriptionLocalizations(both('cmd.presets.role')[1])
    .addRoleOption((o) => o.setName('role').setNameLocalizations({ ko: '역할' }).setDescription(both('cmd.opt.role')[0]).setDescriptionLocalizations(both('cmd.opt.role')[1])));

export const hairPresets: SlashCommand = {
  kind: 'slash',
  data,
  async execute(interaction, ctx) {
    const sub = interaction.options.getSubcommand();
    const locale = localeOf(interaction);
    const guildId = interaction.guildId!;
    if (sub === 'role') assertManageGuild(interaction);
    else await assertModerator(interaction, ctx);
    const say = async (content: string, extra: Record<string, unknown> = {}) =>
      void (await interaction.reply({ content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] }, ...extra }));

    if (sub === 'add') {
      const image = interaction.options.getAttachment('image', true);
      const ref = await checkInteractionAttachment(image, interaction, ctx);
      const kind = presetKindSchema.parse(interaction.options.getString('kind', true));
      const entry = await ctx.presets.add(guildId, { name: interaction.options.getString('name', true), kind, addedBy: interaction.user.id });
      const jobId = `preset-${interaction.id}`;
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      try {
        await ctx.presetReplies.save(jobId, { token: interaction.token, applicationId: interaction.applicationId, locale, name: entry.name });
        await ctx.enqueuer.enqueuePresetBuild(jobId, { guildId, presetId: entry.id, name: entry.name, kind, image: ref, moderatorId: interaction.user.id, locale, requestedAt: Date.now() });
      } catch (error) {
        await ctx.presets.remove(guildId, entry.name);
        throw error;
      }
      await interaction.editReply({ content: t(locale, 'presets.building', { name: entry.name }) });
      return;
    }
    if (sub === 'remove') {
      const removed = await ctx.presets.remove(guildId, interaction.options.getString('name', true));
      return await say(t(locale, 'presets.removed', { name: removed.name }));
    }
    if (sub === 'rename') {
      const renamed = await ctx.presets.rename(guildId, interaction.options.getString('name', true), interaction.options.getString('new_name', true));
      return await say(t(locale, 'presets.renamed', { name: renamed.name }));
    }
    if (sub === 'list') {
      const all = await ctx.presets.list(guildId, undefined, { includeUnready: true });
      const lines = all.map((p) => p.source === 'builtin'
        ? `• ${presetName(p, locale)} · ${t(locale, `kind.${p.kind}`)} · ${t(locale, 'presets.builtin')}`
        : `• ${p.name} · ${t(locale, `kind.${p.kind}`)} · ${t(locale, `presets.status.${p.status}`)} · ${t(locale, 'presets.addedBy', { user: `<@${p.addedBy}>`, when: relativeTime(p.addedAt ?? 0) })}`);
      const embed = new EmbedBuilder().setTitle(t(locale, 'presets.listTitle', { count: all.length, limit: ctx.config.GUILD_PRESET_LIMIT }))
        .setDescription((lines.join('\n') || t(locale, 'gallery.empty')).slice(0, 4000));
      return await say('', { embeds: [embed] });
    }
    if (sub === 'preview') {
      const name = interaction.options.getString('name', true);
      const all = await ctx.presets.list(guildId, undefined, { includeUnready: true });
      const preset = all.find((p) => matchesTypedName(p, name));
      if (!preset) throw new HairError('PRESET_NOT_FOUND', { name });
      const bytes = await presetThumbnail(ctx, preset);
      const embed = new EmbedBuilder().setTitle(presetName(preset, locale)).setDescription(`${t(locale, `kind.${preset.kind}`)} · \`${preset.id}\``);
      const files = bytes ? [new AttachmentBuilder(bytes, { name: 'preset.jpg' })] : [];
      if (bytes) embed.setImage('attachment://preset.jpg');
      return await say('', { embeds: [embed], files });
    }
    if (sub === 'builtins') {
      const on = interaction.options.getString('state', true) === 'on';
      await ctx.settings.setBuiltins(guildId, on);
      return await say(t(locale, on ? 'presets.builtinsOn' : 'presets.builtinsOff'));
    }
    if (sub === 'role') {
      const role = interaction.options.getRole('role');
      await ctx.settings.setModeratorRole(guildId, role?.id);
      return await say(role ? t(locale, 'presets.roleSet', { role: `<@&${role.id}>` }) : t(locale, 'presets.roleCleared'));
    }
  },
  async autocomplete(interaction, ctx) {
    const typed = interaction.options.getFocused();
    const all = await ctx.presets.list(interaction.guildId!, undefined, { includeUnready: true });
    const sub = interaction.options.getSubcommand();
    const choices = all
      .filter((p) => (sub === 'preview' || p.source === 'guild') && containsTyped(p, typed))
      .slice(0, AUTOCOMPLETE_MAX)
      .map((p) => ({ name: presetName(p, localeOf(interaction)).slice(0, 100), value: p.source === 'guild' ? p.name : p.id }));
    await interaction.respond(choices);
  },
};

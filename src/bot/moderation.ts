import { PermissionFlagsBits, type ChatInputCommandInteraction, type GuildMember, type APIInteractionGuildMember } from 'discord.js';
import { HairError } from '../shared/index.js';
import type { BotContext } from './context.js';

function memberRoles(member: GuildMember | APIInteractionGuildMember | null): string[] {
  if (!member) return [];
  return Array.isArray(member.roles) ? member.roles : [...member.roles.cache.keys()];
}

/**
 * Moderators: Manage Server, or the guild's moderator role. Discord's default permissions can be changed by a
 * server's admins, so the check is done again here on every call.
 */
export async function assertModerator(interaction: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
  if (interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild)) return;
  const role = interaction.guildId ? await ctx.settings.moderatorRole(interaction.guildId) : undefined;
  if (role && memberRoles(interaction.member as GuildMember | APIInteractionGuildMember | null).includes(role)) return;
  throw new HairError('NOT_MODERATOR');
}

/** Server settings that change who moderates (the role) need Manage Server itself. */
export function assertManageGuild(interaction: ChatInputCommandInteraction): void {
  if (!interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild)) throw new HairError('NOT_MODERATOR');
}

export function assertAdministrator(interaction: ChatInputCommandInteraction): void {
  if (!interaction.memberPermissions?.has(PermissionFlagsBits.Administrator)) throw new HairError('NOT_ADMIN');
}

import { REST, Routes, type RESTPostAPIApplicationCommandsJSONBody } from 'discord.js';
import type { BotCommand } from './context.js';

export interface DeployOptions {
  token: string;
  applicationId: string;
  apiUrl: string;
  /** Register in one guild (instant) instead of globally. */
  guildId?: string | undefined;
}

/** Bulk-overwrites the application's commands (global or one guild) with the static list; returns what was sent. */
export async function deployCommands(commands: readonly BotCommand[], options: DeployOptions): Promise<RESTPostAPIApplicationCommandsJSONBody[]> {
  const body = commands.map((c) => c.data.toJSON());
  const rest = new REST({ api: options.apiUrl }).setToken(options.token);
  const route = options.guildId
    ? Routes.applicationGuildCommands(options.applicationId, options.guildId)
    : Routes.applicationCommands(options.applicationId);
  await rest.put(route, { body });
  return body;
}

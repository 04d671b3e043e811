import { Command } from 'commander';
import { commands } from '../src/bot/commands/index.js';
import { deployCommands } from '../src/bot/deploy.js';
import { createLogger, errorMessage, loadConfig, toHairError } from '../src/shared/index.js';

/** `npm run commands:deploy [--guild ID]`: registers the bot's commands (never done at bot start). */
const program = new Command('deploy-commands')
  .description('Register the slash and context-menu commands with Discord')
  .option('--guild <id>', 'register in one guild only (updates instantly; for testing)')
  .parse(process.argv);

try {
  const config = loadConfig({ need: ['discord'] });
  const log = createLogger({ level: config.LOG_LEVEL, name: 'deploy-commands', format: config.LOG_FORMAT });
  const guildId = program.opts<{ guild?: string }>().guild;
  const sent = await deployCommands(commands, { token: config.DISCORD_TOKEN!, applicationId: config.DISCORD_APPLICATION_ID!, apiUrl: config.DISCORD_API_URL ?? 'https://discord.com/api', guildId });
  log.info({ commands: sent.map((c) => c.name), scope: guildId ? `guild ${guildId}` : 'global' }, 'commands registered');
} catch (error) {
  const e = toHairError(error);
  process.stderr.write(`error[${e.code}]: ${e.code === 'INTERNAL' ? e.message : errorMessage('en', e.code, e.params)}\n${e.message}\n`);
  process.exitCode = 1;
}

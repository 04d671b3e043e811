import { createLogger, loadConfig } from '../shared/index.js';
import { createBot } from './bot.js';

/** `npm run bot`: the Discord side only (workers run elsewhere, sharing Redis). */
const config = loadConfig({ need: ['redis', 'discord', 'bot'] });
const log = createLogger({ level: config.LOG_LEVEL, name: 'bot' });
const bot = createBot(config, { log });
const stop = async (signal: string) => {
  log.info({ signal }, 'shutting down');
  await bot.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop('SIGINT'));
process.once('SIGTERM', () => void stop('SIGTERM'));
await bot.start();

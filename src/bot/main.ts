// `npm run bot`: the Discord side only (workers run elsewhere, sharing Redis).
import { createLogger, loadConfig, toHairError } from '../shared/index.js';
import { createBot, type Bot } from './bot.js';

const log = createLogger({ name: 'bot' });
let bot: Bot | undefined;
try {
  const config = loadConfig({ need: ['redis', 'discord', 'bot'] });
  bot = createBot(config, { log: createLogger({ level: config.LOG_LEVEL, name: 'bot' }) });
  const running = bot;
  const stop = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    await running.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  await bot.start();
} catch (error) {
  const e = toHairError(error);
  log.fatal({ code: e.code, err: error }, `bot failed to start: ${e.message}`);
  await bot?.close();
  setTimeout(() => process.exit(1), 100).unref();
}

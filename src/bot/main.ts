// `npm run bot`: the Discord side only (workers run elsewhere, sharing Redis).
import { createLogger, exitOnShutdownSignals, loadConfig, toHairError } from '../shared/index.js';
import { createBot, type Bot } from './bot.js';

const log = createLogger({ name: 'bot' });
let bot: Bot | undefined;
try {
  const config = loadConfig({ need: ['discord'] });
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'bot' });
  bot = createBot(config, { log: logger });
  const running = bot;
  exitOnShutdownSignals(logger, () => running.close());
  await bot.start();
} catch (error) {
  const e = toHairError(error);
  log.fatal({ code: e.code, err: error }, `bot failed to start: ${e.message}`);
  await bot?.close();
  setTimeout(() => process.exit(1), 100).unref();
}

// `npm run bot`: the Discord side only (workers run elsewhere, sharing Redis).
import { createLogger, exitOnShutdownSignals, exitOnStartupFailure, loadConfig } from '../shared/index.js';
import { createRedisConnector } from '../redis/redis-connector.js';
import { createBot, type Bot } from './bot.js';

const log = createLogger({ name: 'bot' });
let bot: Bot | undefined;
try {
  const config = loadConfig({ need: ['discord'] });
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'bot', format: config.LOG_FORMAT });
  await createRedisConnector(config).assertReachable(); // before any queue client starts connecting
  bot = createBot(config, { log: logger });
  const running = bot;
  exitOnShutdownSignals(logger, () => running.close());
  await bot.start();
} catch (error) {
  await bot?.close();
  exitOnStartupFailure(log, error, 'bot');
}

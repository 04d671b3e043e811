// `npm start`: the bot and one worker in one process, for small servers. Large setups run `npm run bot` and any
// number of `npm run worker` on other hosts against the same Redis (docs/discord-setup.md).
import { createBot } from './bot/bot.js';
import { createTryOnEngine } from './pipeline/index.js';
import { createLogger, exitOnShutdownSignals, exitOnStartupFailure, loadConfig } from './shared/index.js';
import { Redis } from 'ioredis';
import { assertRedisReachable, REDIS_PREFLIGHT_OPTIONS } from './shared/redis.js';
import { createWorker, type HairWorker } from './worker/create-worker.js';

const log = createLogger({ name: 'hairstyler' });
let worker: HairWorker | undefined;
let bot: ReturnType<typeof createBot> | undefined;

try {
  const config = loadConfig({ need: ['discord'] });
  const logger = createLogger({ name: 'hairstyler', level: config.LOG_LEVEL, format: config.LOG_FORMAT });
  await assertRedisReachable(new Redis(config.REDIS_URL, REDIS_PREFLIGHT_OPTIONS), config.REDIS_URL); // before any queue client starts connecting
  worker = await createWorker(config, { logger: logger.child({ role: 'worker' }), createEngine: createTryOnEngine });
  bot = createBot(config, { log: logger.child({ role: 'bot' }) });
  const running = { bot, worker };
  exitOnShutdownSignals(logger, async () => {
    const results = await Promise.allSettled([running.bot.close(), running.worker.close()]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  });
  await bot.start();
} catch (error) {
  await Promise.allSettled([bot?.close(), worker?.close()]);
  exitOnStartupFailure(log, error, 'hairstyler');
}

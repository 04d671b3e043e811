// `npm start`. With DISCORD_TOKEN: the bot and one worker in one process, for small servers, plus the studio when
// STUDIO_PORT is set; large setups run `npm run bot` and any number of `npm run worker` on other hosts against the
// same Redis (docs/discord-setup.md). Without a token: the web studio at http://127.0.0.1:8501 — on the queue with
// a worker in this process when Redis answers, else with the engine in this process.
import { createBot } from './bot/bot.js';
import { createPipelineEngine } from './pipeline/engine-thread/index.js';
import { createLogger, exitOnShutdownSignals, exitOnStartupFailure, hasDiscordToken, loadConfig, type Config } from './shared/index.js';
import { createRedisConnector } from './redis/redis-connector.js';
import { redactRedisUrl } from './shared/redis.js';
import { redisAnswers, startStudio, type RunningStudio } from './studio/start-studio.js';
import { createWorker, type HairWorker } from './worker/create-worker.js';

const log = createLogger({ name: 'hairstyler' });
const running: { bot?: ReturnType<typeof createBot>; worker?: HairWorker; studio?: RunningStudio } = {};

async function closeAll(): Promise<void> {
  const results = await Promise.allSettled([running.studio?.close(), running.bot?.close(), running.worker?.close()]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** The bundled worker may fetch selfies from this process's own studio. */
function withStudioHost(config: Readonly<Config>, studio: RunningStudio | undefined): Readonly<Config> {
  if (!studio) return config;
  const host = new URL(studio.publicUrl).hostname.replace(/^\[|\]$/g, '');
  return Object.freeze({ ...config, DOWNLOAD_ALLOWED_HOSTS: [...new Set([...config.DOWNLOAD_ALLOWED_HOSTS, host])] });
}

try {
  if (hasDiscordToken()) {
    const config = loadConfig({ need: ['discord'] });
    const logger = createLogger({ name: 'hairstyler', level: config.LOG_LEVEL, format: config.LOG_FORMAT });
    // The bot needs Redis: before any queue client starts connecting, one clear line if it does not answer.
    await createRedisConnector(config).assertReachable();
    exitOnShutdownSignals(logger, closeAll);
    if (config.STUDIO_PORT !== undefined) running.studio = await startStudio(config, { logger: logger.child({ role: 'studio' }), engine: { kind: 'queue' } });
    running.worker = await createWorker(withStudioHost(config, running.studio), { logger: logger.child({ role: 'worker' }), createEngine: createPipelineEngine });
    running.bot = createBot(config, { log: logger.child({ role: 'bot' }) });
    await running.bot.start();
    if (running.studio) logger.info({ url: running.studio.url }, `studio at ${running.studio.url}`);
  } else {
    const config = loadConfig();
    const logger = createLogger({ name: 'hairstyler', level: config.LOG_LEVEL, format: config.LOG_FORMAT });
    exitOnShutdownSignals(logger, closeAll);
    if (await redisAnswers(config)) {
      running.studio = await startStudio(config, { logger: logger.child({ role: 'studio' }), engine: { kind: 'queue' } });
      if (config.STUDIO_LOCAL_WORKER) {
        running.worker = await createWorker(withStudioHost(config, running.studio), { logger: logger.child({ role: 'worker' }), createEngine: createPipelineEngine });
      }
    } else {
      const connector = createRedisConnector(config);
      const where = connector.mode === 'standalone' ? `at ${redactRedisUrl(config.REDIS_URL)}` : `(${connector.target.where})`;
      logger.info({ redis: where }, `no Redis answers ${where}: the studio runs the engine in this process`);
      const engine = await createPipelineEngine(config, { logger: logger.child({ role: 'engine' }) });
      try {
        running.studio = await startStudio(config, { logger: logger.child({ role: 'studio' }), engine: { kind: 'in-process', engine } });
      } catch (error) {
        await engine.dispose();
        throw error;
      }
      const studio = running.studio;
      running.studio = { ...studio, close: async () => { await studio.close(); await engine.dispose(); } };
    }
    const studio = running.studio;
    logger.info({ url: studio.url, mode: studio.mode }, `studio ready at ${studio.url} (no DISCORD_TOKEN; ${studio.mode === 'queue' ? 'jobs go through the Redis queue' : 'engine in this process'})`);
    // Also plain on stdout, so the address is easy to find among JSON lines.
    process.stdout.write(`\n  Hairstyler studio: ${studio.url}\n\n`);
  }
} catch (error) {
  await closeAll().catch(() => undefined);
  exitOnStartupFailure(log, error, 'hairstyler');
}

import { loadConfig, type LoadConfigOptions } from '../shared/config.js';
import { createLogger } from '../shared/log.js';
import { exitOnShutdownSignals } from '../shared/shutdown-signals.js';
import { exitOnStartupFailure } from '../shared/startup-failure.js';
import { createWorker, type EngineFactory, type HairWorker } from './create-worker.js';

export interface WorkerProcessOptions {
  createEngine: EngineFactory;
  config?: LoadConfigOptions;
}

/**
 * What `npm run worker` does, for main.ts and for tests that run the worker as a child process: config → worker,
 * then SIGTERM/SIGINT → close() (finish the active job within SHUTDOWN_TIMEOUT_MS) → exit 0. A second signal
 * exits at once. Startup errors print their code and exit 1.
 */
export async function runWorkerProcess(options: WorkerProcessOptions): Promise<HairWorker | undefined> {
  let logger = createLogger({ name: 'worker' });
  try {
    const config = loadConfig({ ...options.config, need: ['discord', ...(options.config?.need ?? [])] });
    logger = createLogger({ name: 'worker', level: config.LOG_LEVEL, format: config.LOG_FORMAT });
    const worker = await createWorker(config, { logger, createEngine: options.createEngine });
    exitOnShutdownSignals(logger, () => worker.close());
    return worker;
  } catch (error) {
    exitOnStartupFailure(logger, error, 'worker');
    return undefined;
  }
}

import type { TryOnEngine } from '../engine.js';
import type { EngineConfig } from '../index.js';
import { createThreadedTryOnEngine, type ThreadedEngineDeps } from './threaded-engine.js';

export { createThreadedTryOnEngine, type ThreadedEngineDeps };
export { DEFAULT_RESTART_POLICY, type PipelineThreadEvent, type RestartPolicy } from './threaded-engine.js';

/**
 * The engine as PIPELINE_THREAD says: on its own thread (`on`), or in this thread (`off`, loaded only then, so a
 * threaded process never loads onnxruntime outside its pipeline thread).
 */
export async function createPipelineEngine(config: EngineConfig, deps: ThreadedEngineDeps = {}): Promise<TryOnEngine> {
  if (config.PIPELINE_THREAD === 'on') return createThreadedTryOnEngine(config, deps);
  const { createTryOnEngine } = await import('../index.js');
  return createTryOnEngine(config, deps);
}

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ErrorCode } from '../shared/errors.js';

/** Job counts per state of one queue, read at scrape time. */
export type QueueCounter = () => Promise<Record<string, number>>;

export interface WorkerMetrics {
  readonly registry: Registry;
  observeStage(stage: string, ms: number): void;
  observeJob(queue: string, endToEndMs: number): void;
  failed(queue: string, code: ErrorCode): void;
  /** The pipeline thread died (its in-flight requests failed with `code`) and is being restarted. */
  threadRestarted(code: ErrorCode): void;
  setInfo(info: { workerId: string; executionProvider: string; modelKind: string; precision: string; gpu: string; loadMs: number }): void;
}

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120];

/** Prometheus metrics of one worker process, on a registry of its own (never the global one). */
export function createWorkerMetrics(queues: Record<string, QueueCounter>): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hair_worker_' });
  new Gauge({
    name: 'hair_queue_jobs',
    help: 'Jobs in each queue by state (waiting, active, delayed, failed, completed, prioritized, paused)',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [queue, count] of Object.entries(queues)) {
        for (const [state, value] of Object.entries(await count())) this.set({ queue, state }, value);
      }
    },
  });
  const stage = new Histogram({
    name: 'hair_stage_duration_seconds',
    help: 'Time spent in each stage of a try-on (downloading, detecting, aligning, transferring, uploading)',
    labelNames: ['stage'],
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  });
  const endToEnd = new Histogram({
    name: 'hair_job_duration_seconds',
    help: 'End to end: enqueued by the bot → result delivered',
    labelNames: ['queue'],
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  });
  const failures = new Counter({
    name: 'hair_job_failures_total',
    help: 'Failed attempts by stable error code',
    labelNames: ['queue', 'code'],
    registers: [registry],
  });
  const restarts = new Counter({
    name: 'hair_pipeline_thread_restarts_total',
    help: 'Pipeline thread deaths that started a restart, by the stable code its in-flight requests failed with',
    labelNames: ['code'],
    registers: [registry],
  });
  const info = new Gauge({
    name: 'hair_worker_info',
    help: 'This worker: execution provider, model kind and GPU (value is always 1)',
    labelNames: ['worker_id', 'execution_provider', 'model_kind', 'precision', 'gpu'],
    registers: [registry],
  });
  const load = new Gauge({ name: 'hair_engine_load_seconds', help: 'Time to create and warm every session', registers: [registry] });

  return {
    registry,
    observeStage: (name, ms) => stage.observe({ stage: name }, ms / 1000),
    observeJob: (queue, ms) => endToEnd.observe({ queue }, ms / 1000),
    failed: (queue, code) => failures.inc({ queue, code }),
    threadRestarted: (code) => restarts.inc({ code }),
    setInfo(value) {
      info.reset();
      info.set({ worker_id: value.workerId, execution_provider: value.executionProvider, model_kind: value.modelKind, precision: value.precision, gpu: value.gpu }, 1);
      load.set(value.loadMs / 1000);
    },
  };
}

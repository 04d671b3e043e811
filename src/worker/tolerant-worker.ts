import { Job, UnrecoverableError, Worker, type JobJson, type Processor, type WorkerOptions } from 'bullmq';
import { formatJobFailure } from '../shared/job.js';

/** A BullMQ field that is not JSON makes BullMQ throw while it reads the job: the job is left active, stalls, cycles. */
const CORRUPT_REASON = formatJobFailure('INTERNAL', { reason: 'stored job fields are not valid JSON' });

/**
 * A BullMQ Worker that fails a job whose stored fields are not valid JSON once (UnrecoverableError), instead of
 * leaving it active → stalled → waiting → active forever. `data` is parsed in createJob: the job is handed to the
 * processor with empty data, which fails the contract check. `opts`, `progress` and `parent` are parsed while the
 * job is moved to active: the job this worker just locked is failed directly.
 */
export class TolerantWorker<Data = unknown, Result = unknown> extends Worker<Data, Result> {
  constructor(
    name: string,
    processor: Processor<Data, Result>,
    opts: WorkerOptions,
    private readonly onCorrupt: (jobId: string, fields: string[]) => void,
  ) {
    super(name, processor, opts);
  }

  protected override createJob(data: JobJson, jobId: string): Job<Data, Result> {
    try {
      return super.createJob(data, jobId);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      this.onCorrupt(data.id || jobId, ['data']);
      return super.createJob({ ...data, data: '{}' }, jobId);
    }
  }

  protected override async moveToActive(token: string, name?: string): Promise<Job<Data, Result>> {
    try {
      return await super.moveToActive(token, name);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      await this.failLockedBy(token);
      return undefined as unknown as Job<Data, Result>;
    }
  }

  /** The active jobs whose lock is `token` (the one moveToActive just took) → failed, without reading their fields. */
  private async failLockedBy(token: string): Promise<void> {
    const client = await this.backend.client;
    const ids = await client.lrange(this.keys.active!, 0, -1);
    for (const id of ids) {
      if ((await client.get(`${this.toKey(id)}:lock`)) !== token) continue;
      this.onCorrupt(id, ['opts', 'progress', 'parent']);
      await new Job(this, 'corrupt', {}, {}, id).moveToFailed(new UnrecoverableError(CORRUPT_REASON), token, false);
    }
  }
}

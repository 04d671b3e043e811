import { Job, UnrecoverableError, Worker, type JobJson, type Processor, type WorkerOptions } from 'bullmq';
import { formatJobFailure } from '../shared/job.js';

/** A BullMQ field that is not JSON makes BullMQ throw while it reads the job: the job is left active, stalls, cycles. */
const CORRUPT_REASON = formatJobFailure('INTERNAL', { reason: 'stored job fields are not valid JSON' });

type NextJob = Awaited<ReturnType<Job['moveToCompleted']>>;

/**
 * BullMQ reads the next job while it finishes one (fetch-next). When that next job cannot be read, the finish itself
 * went through in Redis: the unreadable job, locked with the same token, is failed and no next job is returned.
 */
class TolerantJob extends Job {
  override async moveToCompleted(returnValue: unknown, token: string, fetchNext?: boolean): Promise<NextJob> {
    try {
      return await super.moveToCompleted(returnValue, token, fetchNext);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      await (this.queue as unknown as TolerantWorker).failLockedBy(token);
      return [] as unknown as NextJob;
    }
  }

  override async moveToFailed(err: Error, token: string, fetchNext?: boolean): Promise<void | unknown[]> {
    try {
      return await super.moveToFailed(err, token, fetchNext);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      await (this.queue as unknown as TolerantWorker).failLockedBy(token);
      return [];
    }
  }
}

/**
 * A BullMQ Worker that fails a job whose stored fields are not valid JSON once (UnrecoverableError), instead of
 * leaving it active → stalled → waiting → active forever. `data` is parsed in createJob: the job is handed to the
 * processor with empty data, which fails the contract check. `opts`, `progress` and `parent` are parsed while the
 * job is moved to active (on its own, or fetched next while another finishes): the job locked with that token is
 * failed directly, without reading its fields.
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

  protected override get Job(): typeof Job {
    return TolerantJob as unknown as typeof Job;
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

  /** The active jobs whose lock is `token` (just taken by this worker) → failed, without reading their fields. */
  async failLockedBy(token: string): Promise<void> {
    const client = await this.backend.client;
    const ids = await client.lrange(this.keys.active!, 0, -1);
    for (const id of ids) {
      if ((await client.get(`${this.toKey(id)}:lock`)) !== token) continue;
      this.onCorrupt(id, ['opts', 'progress', 'parent']);
      await new Job(this, 'corrupt', {}, {}, id).moveToFailed(new UnrecoverableError(CORRUPT_REASON), token, false);
    }
  }
}

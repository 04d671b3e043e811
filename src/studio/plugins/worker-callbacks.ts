import type { FastifyInstance } from 'fastify';
import { STUDIO_RESULT_HEADER, studioErrorCallbackSchema, studioResultMetaSchema } from '../../shared/job.js';
import type { Logger } from '../../shared/log.js';
import type { JobBoard } from '../job-board.js';
import type { SelfieStore } from '../selfie-store.js';

export interface WorkerCallbacksOptions {
  board: JobBoard;
  selfies: SelfieStore;
  /** Largest result a worker may post (RESULT_MAX_BYTES). */
  resultMaxBytes: number;
  logger: Logger;
}

const TOKEN = /^[A-Za-z0-9_-]{32,128}$/;

function parseJson(header: string | string[] | undefined): unknown {
  try {
    return typeof header === 'string' ? JSON.parse(header) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What workers call, authenticated by their own one-time secrets (not the studio token): the photo, once, at its
 * unguessable URL; and the result or error, once, with the job's bearer token.
 */
export async function workerCallbacks(app: FastifyInstance, options: WorkerCallbacksOptions): Promise<void> {
  const { board, selfies } = options;
  app.addContentTypeParser(/^image\//, { parseAs: 'buffer', bodyLimit: options.resultMaxBytes + 1024 }, (_req, body, done) => done(null, body));

  app.get<{ Params: { token: string } }>('/worker/selfie/:token', { config: { rateLimit: false } }, async (request, reply) => {
    const selfie = TOKEN.test(request.params.token) ? selfies.take(request.params.token) : undefined;
    if (!selfie) return reply.code(404).header('cache-control', 'no-store').send();
    return reply.header('cache-control', 'no-store').type(selfie.contentType).send(Buffer.from(selfie.bytes.buffer, selfie.bytes.byteOffset, selfie.bytes.byteLength));
  });

  app.post<{ Params: { jobId: string } }>('/worker/callback/:jobId', { config: { rateLimit: false } }, async (request, reply) => {
    const { jobId } = request.params;
    const bearer = request.headers.authorization?.replace(/^Bearer\s+/i, '') ?? '';
    // Unknown, already answered and wrong-token callbacks look the same: there is nothing to learn here.
    if (!board.acceptsCallback(jobId, bearer)) return reply.code(404).send();
    const type = String(request.headers['content-type'] ?? '');
    if (type.startsWith('image/')) {
      const meta = studioResultMetaSchema.safeParse(parseJson(request.headers[STUDIO_RESULT_HEADER]));
      if (!meta.success || meta.data.jobId !== jobId || !Buffer.isBuffer(request.body)) return reply.code(400).send();
      const { format, width, height, totalMs } = meta.data;
      board.finish(jobId, { result: { bytes: new Uint8Array(request.body), format, width, height, totalMs } });
      return reply.code(204).send();
    }
    const failure = studioErrorCallbackSchema.safeParse(request.body);
    if (!failure.success || failure.data.jobId !== jobId) return reply.code(400).send();
    board.finish(jobId, { error: { type: 'error', code: failure.data.error.code, params: failure.data.error.params } });
    options.logger.debug({ jobId, code: failure.data.error.code }, 'worker reported a failure');
    return reply.code(204).send();
  });
}

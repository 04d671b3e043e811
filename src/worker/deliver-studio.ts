import { request, type Dispatcher } from 'undici';
import { HairError } from '../shared/errors.js';
import {
  STUDIO_RESULT_HEADER, type StudioErrorCallback, type StudioResultMeta, type StudioTryOnJobData,
} from '../shared/job.js';
import type { Logger } from '../shared/log.js';
import { userVisibleFailure, type DeliveredMessage, type Delivery } from './deliver.js';
import { checkUrl } from './download.js';

export interface StudioDeliveryConfig {
  /** The studio's host must be allowed like a download host: the callback cannot be pointed anywhere else. */
  DOWNLOAD_ALLOWED_HOSTS: readonly string[];
  DOWNLOAD_CONNECT_TIMEOUT_MS: number;
  DOWNLOAD_READ_TIMEOUT_MS: number;
}

export interface StudioDeliveryDeps {
  logger: Logger;
  /** The worker's shared undici Agent. */
  dispatcher?: Dispatcher;
}

/**
 * Answers studio jobs: POSTs the result image (or the error) to the job's callback URL with its one-time bearer
 * token. 2xx = delivered. 404/410: the studio no longer waits for it (its page closed, the TTL passed) — final, not
 * retried. 5xx or no answer: STUDIO_UNAVAILABLE, retried like any transient failure.
 */
export function createStudioDelivery(config: StudioDeliveryConfig, deps: StudioDeliveryDeps): Delivery<StudioTryOnJobData> {
  async function post(job: StudioTryOnJobData, body: Buffer | string, headers: Record<string, string>, signal?: AbortSignal): Promise<DeliveredMessage> {
    const url = checkUrl(job.reply.callbackUrl, config.DOWNLOAD_ALLOWED_HOSTS);
    let statusCode: number;
    try {
      const response = await request(url, {
        method: 'POST',
        body,
        headers: { ...headers, authorization: `Bearer ${job.reply.callbackToken}` },
        headersTimeout: config.DOWNLOAD_READ_TIMEOUT_MS,
        bodyTimeout: config.DOWNLOAD_READ_TIMEOUT_MS,
        ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
        ...(signal ? { signal } : {}),
      });
      statusCode = response.statusCode;
      await response.body.dump();
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const code = (error as { code?: string } | null)?.code ?? (error as Error)?.name;
      throw new HairError('STUDIO_UNAVAILABLE', {}, { detail: `studio callback to ${url.host}: ${code}` });
    }
    if (statusCode >= 200 && statusCode < 300) return { via: 'studio' };
    const detail = `studio callback to ${url.host} answered ${statusCode}`;
    if (statusCode >= 500 || statusCode === 429 || statusCode === 408) throw new HairError('STUDIO_UNAVAILABLE', { status: statusCode }, { detail });
    throw new HairError('INTERNAL', { status: statusCode }, { detail });
  }

  return {
    async deliverResult(job, _token, image, summary, signal) {
      const meta: StudioResultMeta = {
        jobId: summary.jobId,
        format: image.format,
        width: image.width,
        height: image.height,
        totalMs: Math.round(summary.totalMs),
        queuedMs: Math.round(summary.queuedMs),
        pipelineMs: Math.round(summary.pipelineMs),
      };
      return post(job, image.data, { 'content-type': `image/${image.format}`, [STUDIO_RESULT_HEADER]: JSON.stringify(meta) }, signal);
    },

    async deliverError(job, _token, jobId, error) {
      const { code, params: all } = userVisibleFailure(error, jobId);
      const params = Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as Record<string, string | number | boolean>;
      const payload: StudioErrorCallback = { jobId, error: { code, params, retryable: error.retryable } };
      deps.logger.debug({ jobId, code }, 'telling the studio about a failure');
      return post(job, JSON.stringify(payload), { 'content-type': 'application/json' });
    },

    // The studio takes each callback once (its token is one-time): a second post is refused, never shown twice.
    async findEarlierDelivery() {
      return undefined;
    },
  };
}

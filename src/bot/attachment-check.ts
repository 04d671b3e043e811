import { z } from 'zod';
import { HairError, type AttachmentRefInput } from '../shared/index.js';
import { isHostAllowed } from '../shared/allowed-hosts.js';
import { formatByteLimit } from '../shared/format-bytes.js';
import { SNIFF_HEAD_BYTES, sniffFormat } from '../shared/sniff-format.js';

/** Content types the pipeline's intake reads. */
const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif', 'image/heic', 'image/heif']);
const SNIFF_TIMEOUT_MS = 1_500;

const attachmentSchema = z.object({
  url: z.string().url(),
  size: z.number().int().min(0),
  contentType: z.string().nullable().optional(),
  name: z.string(),
});
export type AttachmentLike = z.input<typeof attachmentSchema>;

export interface AttachmentCheckOptions {
  /** min(interaction.attachmentSizeLimit, ATTACHMENT_MAX_BYTES). */
  maxBytes: number;
  allowedHosts: readonly string[];
  fetch: typeof globalThis.fetch;
}

/**
 * Checks a member's attachment before anything is queued: declared type, declared size against the interaction's
 * limit, the host, and the first bytes with the intake's own sniffer (a text file named .png is refused here,
 * privately and at once). Only SNIFF_HEAD_BYTES are read, into memory; the worker downloads and checks the whole file again.
 */
export async function checkAttachment(input: AttachmentLike, options: AttachmentCheckOptions): Promise<AttachmentRefInput> {
  const a = attachmentSchema.parse(input);
  if (a.size > options.maxBytes) throw new HairError('IMAGE_TOO_LARGE', { limit: formatByteLimit(options.maxBytes) });
  const declared = a.contentType?.split(';')[0]?.trim().toLowerCase();
  if (declared && !IMAGE_TYPES.has(declared)) throw new HairError('UNSUPPORTED_FORMAT', { contentType: declared });
  if (!isHostAllowed(new URL(a.url).hostname, options.allowedHosts)) throw new HairError('DOWNLOAD_HOST_NOT_ALLOWED');
  const head = await readHead(a.url, options.fetch);
  const sniffed = head ? sniffFormat(head) : undefined;
  if (sniffed && !sniffed.accepted) throw new HairError('UNSUPPORTED_FORMAT', { contentType: declared ?? 'unknown', format: sniffed.format });
  return { url: a.url, size: a.size, name: a.name.slice(0, 1024), maxBytes: options.maxBytes, ...(declared ? { contentType: declared } : {}) };
}

/** The first bytes of a file, or undefined when the CDN does not answer in time (the worker checks it then). */
async function readHead(url: string, fetchImpl: typeof globalThis.fetch): Promise<Uint8Array | undefined> {
  try {
    const response = await fetchImpl(url, { headers: { range: `bytes=0-${SNIFF_HEAD_BYTES - 1}` }, redirect: 'error', signal: AbortSignal.timeout(SNIFF_TIMEOUT_MS) });
    if (!response.ok || !response.body) return undefined;
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let length = 0;
    while (length < SNIFF_HEAD_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      length += value.length;
    }
    await reader.cancel().catch(() => undefined);
    return Buffer.concat(chunks).subarray(0, SNIFF_HEAD_BYTES);
  } catch {
    return undefined;
  }
}

/** checkAttachment with the limits of an interaction: min(its attachment limit, ATTACHMENT_MAX_BYTES). */
export async function checkInteractionAttachment(
  attachment: { url: string; size: number; contentType: string | null; name: string },
  interaction: { attachmentSizeLimit: number },
  ctx: { config: { ATTACHMENT_MAX_BYTES: number; DOWNLOAD_ALLOWED_HOSTS: readonly string[] }; fetch: typeof globalThis.fetch },
): Promise<AttachmentRefInput> {
  return await checkAttachment(
    { url: attachment.url, size: attachment.size, contentType: attachment.contentType, name: attachment.name },
    { maxBytes: Math.min(interaction.attachmentSizeLimit || Infinity, ctx.config.ATTACHMENT_MAX_BYTES), allowedHosts: ctx.config.DOWNLOAD_ALLOWED_HOSTS, fetch: ctx.fetch },
  );
}

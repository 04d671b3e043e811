import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HairError } from '../../shared/errors.js';
import { formatByteLimit } from '../../shared/format-bytes.js';
import { localeSchema } from '../../shared/job.js';
import { presetKindSchema } from '../../shared/presets.js';
import { SNIFF_HEAD_BYTES, sniffFormat } from '../../shared/sniff-format.js';
import type { StudioBackend } from '../backend.js';
import type { FacePreview } from '../face-preview.js';
import type { JobBoard, StudioEvent } from '../job-board.js';
import { studioStrings } from '../page.js';
import { requestLocale, LOCALE_COOKIE } from '../request-locale.js';
import type { StudioPresets } from '../studio-presets.js';
import { randomToken } from '../../shared/secrets.js';

export interface ApiOptions {
  backend: StudioBackend;
  board: JobBoard;
  faces: FacePreview;
  presets: StudioPresets;
  /** min(ATTACHMENT_MAX_BYTES, MAX_IMAGE_BYTES): the bot's limit for the same photo. */
  maxUploadBytes: number;
  /** USER_MAX_ACTIVE_JOBS, per client address. */
  maxActivePerClient: number;
}

const GUILD = /^\d{5,25}$/;
const SSE_KEEPALIVE_MS = 15_000;
/** Room for the form's boundaries, headers and short fields around the photo. */
const FORM_OVERHEAD_BYTES = 16 * 1024;

interface Form {
  fields: Record<string, string>;
  photo?: { bytes: Buffer; contentType: string };
}

/** Reads a multipart form: short fields, then one photo whose size is checked while it streams. */
async function readForm(request: FastifyRequest): Promise<Form> {
  const form: Form = { fields: {} };
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      if (part.fieldname !== 'photo' || form.photo) {
        await part.toBuffer().catch(() => undefined);
        throw new HairError('BAD_IMAGE', { reason: 'unexpected file' });
      }
      form.photo = { bytes: await part.toBuffer(), contentType: part.mimetype };
    } else {
      form.fields[part.fieldname] = String(part.value);
    }
  }
  return form;
}

function requirePhoto(form: Form): { bytes: Buffer; contentType: string } {
  if (!form.photo || form.photo.bytes.length === 0) throw new HairError('BAD_IMAGE', { reason: 'empty' });
  const sniffed = sniffFormat(form.photo.bytes.subarray(0, SNIFF_HEAD_BYTES));
  if (!sniffed.accepted) throw new HairError('UNSUPPORTED_FORMAT', { contentType: form.photo.contentType, format: sniffed.format });
  return form.photo;
}

function guildOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (!GUILD.test(value)) throw new HairError('PRESET_NOT_FOUND', { name: value.slice(0, 30) });
  return value;
}

export function localeOfRequest(request: FastifyRequest): 'en' | 'ko' {
  const query = request.query as Record<string, string | undefined>;
  return requestLocale(query.lang ?? (request.headers['x-hairstyler-locale'] as string | undefined) ?? request.cookies?.[LOCALE_COOKIE], request.headers['accept-language']);
}

/** The page's API: strings, presets, the face preview, transfers with their event stream and their result. */
export async function api(app: FastifyInstance, options: ApiOptions): Promise<void> {
  const { backend, board, faces, presets } = options;

  app.get('/api/strings', async (request) => studioStrings(localeOfRequest(request)));

  app.get<{ Querystring: { guild?: string } }>('/api/presets', async (request) => ({
    guildId: guildOf(request.query.guild) ?? null,
    presets: await presets.list(guildOf(request.query.guild)),
  }));

  app.get<{ Params: { id: string } }>('/api/presets/:id/thumbnail', async (request, reply) => {
    const thumb = await presets.thumbnail(request.params.id);
    if (!thumb) throw new HairError('PRESET_NOT_FOUND', { name: request.params.id.slice(0, 60) });
    return reply.header('cache-control', 'private, max-age=600').type('image/jpeg').send(thumb);
  });

  // A declared size over the limit is refused before a byte of the body is read; an undeclared (chunked) one is cut
  // off by multipart's fileSize while it streams, so no more than the limit is ever held.
  const declaredSizeCheck = async (request: FastifyRequest) => {
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > options.maxUploadBytes + FORM_OVERHEAD_BYTES) {
      throw new HairError('IMAGE_TOO_LARGE', { limit: formatByteLimit(options.maxUploadBytes) }, { detail: `content-length ${declared}` });
    }
  };

  app.post('/api/face', { preValidation: declaredSizeCheck }, async (request, reply) => {
    const photo = requirePhoto(await readForm(request));
    const { jpeg } = await faces.preview(photo.bytes);
    return reply.header('cache-control', 'no-store').type('image/jpeg').send(jpeg);
  });

  app.post('/api/transfer', { preValidation: declaredSizeCheck }, async (request, reply) => {
    const form = await readForm(request);
    const { fields } = form;
    const mode = presetKindSchema.safeParse(fields.mode ?? 'both');
    if (!mode.success) throw new HairError('NEED_SHAPE_OR_COLOR');
    const guildId = guildOf(fields.guild);
    const shape = mode.data !== 'color' && fields.shape ? (await presets.resolve(fields.shape, 'shape', guildId)).id : undefined;
    const color = mode.data !== 'shape' && fields.color ? (await presets.resolve(fields.color, 'color', guildId)).id : undefined;
    if (!shape && !color) throw new HairError('NEED_SHAPE_OR_COLOR');
    const photo = requirePhoto(form);
    const client = request.ip;
    const locale = localeSchema.catch('en').parse(fields.locale ?? localeOfRequest(request));
    if (board.activeFor(client) >= options.maxActivePerClient) {
      // The page is local: the clock time of the running one's estimate (a minute from now when none is known yet).
      const readyAt = new Date(board.readyAtFor(client) ?? Date.now() + 60_000);
      const eta = readyAt.toLocaleTimeString(locale === 'ko' ? 'ko-KR' : 'en-GB', { hour: '2-digit', minute: '2-digit' });
      throw new HairError('TOO_MANY_JOBS', { eta: locale === 'ko' ? eta : `at about ${eta}`, limit: options.maxActivePerClient });
    }
    if (board.isFull()) throw new HairError('OUT_OF_MEMORY', {}, { detail: 'STUDIO_MAX_PENDING try-ons held' });
    const jobId = `s${randomToken(12)}`;
    const { ticket, callbackToken } = board.open(jobId, client);
    try {
      await backend.submit({
        jobId, selfie: photo.bytes, contentType: photo.contentType, shapePresetId: shape, colorPresetId: color, locale, guildId,
        origin: fields.origin === 'studio-recolor' ? 'studio-recolor' : 'studio', callbackToken,
      });
    } catch (error) {
      board.forget(ticket);
      throw error;
    }
    return reply.code(202).send({ ticket, mode: backend.mode });
  });

  app.get<{ Params: { ticket: string } }>('/api/jobs/:ticket/events', async (request, reply) => {
    const write = (event: StudioEvent) => reply.raw.write(`data: ${JSON.stringify(event)}\n\n`);
    const headers = { ...reply.getHeaders(), 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' };
    if (!board.jobIdOf(request.params.ticket)) throw new HairError('JOB_NOT_FOUND');
    reply.hijack();
    reply.raw.writeHead(200, headers as Record<string, string>);
    reply.raw.write('retry: 2000\n\n');
    const unsubscribe = board.subscribe(request.params.ticket, (event) => {
      write(event);
      if (event.type === 'done' || event.type === 'error') reply.raw.end();
    });
    const keepAlive = setInterval(() => reply.raw.write(': keep-alive\n\n'), SSE_KEEPALIVE_MS);
    request.raw.on('close', () => {
      clearInterval(keepAlive);
      unsubscribe?.();
    });
  });

  app.get<{ Params: { ticket: string } }>('/api/jobs/:ticket/result', async (request, reply: FastifyReply) => {
    const result = board.takeResult(request.params.ticket);
    if (!result) throw new HairError('JOB_NOT_FOUND');
    const ext = result.format === 'jpeg' ? 'jpg' : result.format;
    return reply
      .header('cache-control', 'no-store')
      .header('content-disposition', `inline; filename="hairstyle.${ext}"`)
      .type(`image/${result.format}`)
      .send(Buffer.from(result.bytes.buffer, result.bytes.byteOffset, result.bytes.byteLength));
  });

  app.delete<{ Params: { ticket: string } }>('/api/jobs/:ticket', async (request, reply) => {
    const jobId = board.jobIdOf(request.params.ticket);
    if (!jobId) throw new HairError('JOB_NOT_FOUND');
    await backend.cancel(jobId);
    return reply.code(204).send();
  });

}

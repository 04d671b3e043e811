import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { isLoopbackHost } from '../shared/allowed-hosts.js';
import type { Config } from '../shared/config.js';
import { HairError } from '../shared/errors.js';
import { formatByteLimit } from '../shared/format-bytes.js';
import type { Logger } from '../shared/log.js';
import { randomToken, sameSecret } from '../shared/secrets.js';
import type { StudioBackend } from './backend.js';
import type { FacePreview } from './face-preview.js';
import { errorBody, errorStatus, toStudioError } from './http-errors.js';
import type { JobBoard } from './job-board.js';
import { createPageRenderer } from './page.js';
import { api, localeOfRequest } from './plugins/api.js';
import { workerCallbacks } from './plugins/worker-callbacks.js';
import { LOCALE_COOKIE } from './request-locale.js';
import type { SelfieStore } from './selfie-store.js';
import type { StudioPresets } from './studio-presets.js';
import { uiText } from '../shared/i18n/index.js';

export type StudioAppConfig = Pick<Config,
  'STUDIO_HOST' | 'STUDIO_TOKEN' | 'STUDIO_PUBLIC_URL' | 'STUDIO_RATE_LIMIT_PER_MIN' | 'STUDIO_WEB_DIR'
  | 'ATTACHMENT_MAX_BYTES' | 'MAX_IMAGE_BYTES' | 'RESULT_MAX_BYTES' | 'USER_MAX_ACTIVE_JOBS'>;

export interface StudioAppDeps {
  backend: StudioBackend;
  board: JobBoard;
  selfies: SelfieStore;
  faces: FacePreview;
  presets: StudioPresets;
  logger: Logger;
}

const AUTH_COOKIE = 'hair_studio';
const GUILD = /^\d{5,25}$/;

/** Same-origin only: the page, its scripts and styles, images from blobs (the photo and result stay in the browser). */
const CSP = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'blob:', 'data:'],
  mediaSrc: ["'self'", 'blob:', 'mediastream:'],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  manifestSrc: ["'self'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  objectSrc: ["'none'"],
};

function vendorDir(pkg: string): string {
  return join(dirname(createRequire(import.meta.url).resolve(pkg)));
}

/**
 * The studio's HTTP app (fastify): security headers and CSP, per-IP rate limit, the page and its files, the API,
 * and the worker callbacks. Beyond loopback every request but the workers' needs STUDIO_TOKEN; on loopback only
 * loopback Host names are answered (no DNS rebinding), and cross-site writes are refused.
 */
export async function createStudioApp(config: StudioAppConfig, deps: StudioAppDeps): Promise<FastifyInstance> {
  const maxUploadBytes = Math.min(config.ATTACHMENT_MAX_BYTES, config.MAX_IMAGE_BYTES);
  const uploadLimit = formatByteLimit(maxUploadBytes);
  const webDir = resolve(config.STUDIO_WEB_DIR);
  const renderPage = createPageRenderer(webDir);
  const token = config.STUDIO_TOKEN;
  const publicHost = config.STUDIO_PUBLIC_URL ? new URL(config.STUDIO_PUBLIC_URL).host : undefined;

  const app = Fastify({ logger: false, bodyLimit: 64 * 1024, trustProxy: false });

  app.setErrorHandler((error, request, reply) => {
    const hairError = toStudioError(error, uploadLimit);
    const reference = randomToken(6);
    if (hairError.code === 'INTERNAL') deps.logger.error({ err: error, reference, route: request.routeOptions.url }, 'studio request failed');
    void reply.code(errorStatus(hairError)).header('cache-control', 'no-store').send(errorBody(hairError, localeOfRequest(request), reference));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(errorBody(new HairError('JOB_NOT_FOUND'), localeOfRequest(request), ''));
  });

  await app.register(cookie);
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: CSP },
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'no-referrer' },
  });
  // Permissions-Policy: the camera for this origin only.
  app.addHook('onSend', async (_request, reply) => {
    reply.header('permissions-policy', 'camera=(self), microphone=(), geolocation=()');
  });

  await app.register(rateLimit, {
    max: config.STUDIO_RATE_LIMIT_PER_MIN,
    timeWindow: 60_000,
    keyGenerator: (request) => request.ip,
    // The page's own files are not worth counting; everything that decodes, queues or streams is.
    allowList: (request) => /^\/(assets|js|vendor)\//.test(request.url) || /^\/api\/(strings|presets)/.test(request.url),
    errorResponseBuilder: (request, context) => {
      const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
      return Object.assign(new HairError('RATE_LIMITED', { seconds }), { statusCode: 429 });
    },
  });

  app.addHook('onRequest', async (request, reply) => {
    const host = request.headers.host ?? '';
    const hostname = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    if (!token && !isLoopbackHost(hostname) && host !== publicHost) {
      return reply.code(421).type('text/plain').send('This studio answers on loopback only.\n');
    }
    // Cross-site writes (a form on another site posting here) are refused whatever the auth.
    const origin = request.headers.origin;
    if (request.method !== 'GET' && request.method !== 'HEAD' && origin && !request.url.startsWith('/worker/')) {
      let originHost = '';
      try {
        originHost = new URL(origin).host;
      } catch {
        // unparseable: refused below
      }
      if (originHost !== host) return reply.code(403).type('text/plain').send('cross-site request refused\n');
    }
    if (!token || request.url.startsWith('/worker/') || request.url === '/healthz') return;
    if (authorized(request, token)) return;
    const query = request.query as Record<string, string | undefined>;
    if (request.url.startsWith('/?') && query.token && sameSecret(query.token, token)) {
      // Keep only our own parameters: the redirect never leaves this origin.
      const next = new URLSearchParams();
      if (query.guild && GUILD.test(query.guild)) next.set('guild', query.guild);
      if (query.lang === 'ko' || query.lang === 'en') next.set('lang', query.lang);
      const location = next.size > 0 ? `/?${next}` : '/';
      return reply.setCookie(AUTH_COOKIE, token, { httpOnly: true, sameSite: 'strict', path: '/' }).redirect(location, 303);
    }
    const locale = localeOfRequest(request);
    return reply.code(401).type('text/plain; charset=utf-8').send(`${uiText(locale, 'studio.unauthorized')}\n`);
  });

  await app.register(multipart, {
    limits: { fileSize: maxUploadBytes, files: 1, fields: 12, fieldSize: 256, parts: 14, headerPairs: 50 },
    throwFileSizeLimit: true,
  });

  await app.register(fastifyStatic, { root: join(webDir, 'assets'), prefix: '/assets/', index: false, maxAge: '1h' });
  await app.register(fastifyStatic, { root: join(webDir, 'dist'), prefix: '/js/', index: false, decorateReply: false, maxAge: '1h' });
  await app.register(fastifyStatic, { root: vendorDir('img-comparison-slider'), prefix: '/vendor/img-comparison-slider/', index: false, decorateReply: false, maxAge: '1d' });

  app.get<{ Querystring: { guild?: string; lang?: string } }>('/', async (request, reply) => {
    const locale = localeOfRequest(request);
    const guildId = request.query.guild && GUILD.test(request.query.guild) ? request.query.guild : undefined;
    if (request.query.lang === 'ko' || request.query.lang === 'en') {
      reply.setCookie(LOCALE_COOKIE, request.query.lang, { sameSite: 'strict', path: '/', maxAge: 365 * 24 * 3600 });
    }
    return reply
      .header('cache-control', 'no-store')
      .header('content-language', locale)
      .type('text/html; charset=utf-8')
      .send(renderPage({ locale, mode: deps.backend.mode, guildId }));
  });
  app.get('/healthz', { config: { rateLimit: false } }, async () => ({ ok: true, mode: deps.backend.mode }));

  await app.register(api, {
    backend: deps.backend, board: deps.board, faces: deps.faces, presets: deps.presets,
    maxUploadBytes, maxActivePerClient: config.USER_MAX_ACTIVE_JOBS,
  });
  await app.register(workerCallbacks, { board: deps.board, selfies: deps.selfies, resultMaxBytes: config.RESULT_MAX_BYTES, logger: deps.logger });
  return app;
}

function authorized(request: FastifyRequest, token: string): boolean {
  const bearer = request.headers.authorization?.replace(/^Bearer\s+/i, '') ?? '';
  return sameSecret(bearer, token) || sameSecret(request.cookies[AUTH_COOKIE] ?? '', token);
}

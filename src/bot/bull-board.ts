import { timingSafeEqual } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import fastifyCookie from '@fastify/cookie';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from '../shared/index.js';
import type { Enqueuer } from './enqueue.js';

export interface BullBoardConfig {
  BULL_BOARD_TOKEN?: string | undefined;
  BULL_BOARD_PORT: number;
  /** Where to listen; loopback unless an operator puts it behind a proxy. */
  host?: string;
}

const COOKIE = 'hair_board';

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Optional Bull Board for operators at `/board`, only when BULL_BOARD_TOKEN is set. Every request needs the token:
 * `Authorization: Bearer <token>`, or open `/board?token=<token>` once (it sets an HttpOnly cookie).
 */
export async function startBullBoard(config: BullBoardConfig, deps: { enqueuer: Enqueuer; log: Logger }): Promise<{ url: string; close(): Promise<void> } | undefined> {
  const token = config.BULL_BOARD_TOKEN;
  if (!token) return undefined;
  const app: FastifyInstance = Fastify({ logger: false });
  const adapter = new FastifyAdapter();
  adapter.setBasePath('/board');
  createBullBoard({ queues: [new BullMQAdapter(deps.enqueuer.tryOnQueue as never), new BullMQAdapter(deps.enqueuer.presetBuildQueue as never)], serverAdapter: adapter as never });
  await app.register(fastifyCookie);
  app.addHook('onRequest', async (request, reply) => {
    const query = (request.query ?? {}) as Record<string, string | undefined>;
    const bearer = request.headers.authorization?.replace(/^Bearer\s+/i, '') ?? '';
    if (sameSecret(bearer, token) || sameSecret(request.cookies[COOKIE] ?? '', token)) return;
    if (query.token && sameSecret(query.token, token)) {
      reply.setCookie(COOKIE, token, { httpOnly: true, sameSite: 'strict', path: '/board' });
      return;
    }
    await reply.code(401).send({ error: 'unauthorized' });
  });
  await app.register(adapter.registerPlugin() as never, { prefix: '/board' });
  const address = await app.listen({ port: config.BULL_BOARD_PORT, host: config.host ?? '127.0.0.1' });
  deps.log.info({ url: `${address}/board` }, 'bull board listening');
  let closing: Promise<void> | undefined;
  return {
    url: `${address}/board`,
    async close() {
      closing ??= app.close().then(() => undefined);
      await closing;
    },
  };
}

import type { AddressInfo } from 'node:net';
import { InteractionResponseType, InteractionType, type APIInteraction } from 'discord.js';
import Fastify from 'fastify';
import { z } from 'zod';
import type { Logger } from '../../shared/index.js';
import { checkInteractionSignature, interactionPublicKey } from './interaction-signature.js';

export const INTERACTIONS_PATH = '/interactions';

/** What the endpoint reads of a payload itself; discord.js reads the rest. */
const payloadSchema = z.looseObject({
  id: z.string().min(1),
  application_id: z.string().min(1),
  type: z.number().int(),
  token: z.string().min(1),
});

export interface InteractionsEndpointConfig {
  DISCORD_PUBLIC_KEY: string;
  INTERACTIONS_PORT: number;
  INTERACTIONS_HOST: string;
}

export interface InteractionsEndpointDeps {
  log: Logger;
  /** Runs the interaction's handler; it answers Discord through the interaction callback endpoint (REST). */
  receive(payload: APIInteraction): void;
  /**
   * True the first time any replica sees this interaction id. Discord sends an interaction once, so a second
   * delivery is a replayed request or a balancer's retry: it is answered, and nothing runs again.
   */
  firstDelivery(interactionId: string): Promise<boolean>;
}

/**
 * Discord's Interactions Endpoint URL: `POST /interactions`, each request checked against the application's
 * Ed25519 key before anything else. PING is answered in the response (Discord accepts nothing else for it); every
 * other interaction goes to `receive` and gets 202 with no body, Discord's answer for "the response comes through
 * the callback endpoint". Keeps no state: any number of replicas can share a load balancer.
 */
export async function startInteractionsEndpoint(config: InteractionsEndpointConfig, deps: InteractionsEndpointDeps) {
  const key = interactionPublicKey(config.DISCORD_PUBLIC_KEY);
  const app = Fastify({ logger: false, bodyLimit: 4 * 1024 * 1024 });
  // The signature covers the bytes as sent, so the body stays a Buffer until it is verified.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.get('/healthz', async () => ({ ok: true }));
  app.post(INTERACTIONS_PATH, async (request, reply) => {
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const header = (name: string) => {
      const value = request.headers[name];
      return typeof value === 'string' ? value : undefined;
    };
    const check = checkInteractionSignature(key, { signature: header('x-signature-ed25519'), timestamp: header('x-signature-timestamp') }, raw);
    if (!check.ok) {
      deps.log.warn({ reason: check.reason }, 'refused an interaction request: bad signature');
      return reply.code(401).send({ error: 'invalid request signature' });
    }
    let parsed: z.infer<typeof payloadSchema>;
    try {
      parsed = payloadSchema.parse(JSON.parse(raw.toString('utf8')));
    } catch {
      return reply.code(400).send({ error: 'not an interaction' });
    }
    if (parsed.type === InteractionType.Ping) return reply.code(200).send({ type: InteractionResponseType.Pong });
    if (!(await deps.firstDelivery(parsed.id))) {
      deps.log.info({ interactionId: parsed.id }, 'interaction delivered again: already handled');
      return reply.code(202).send();
    }
    try {
      deps.receive(parsed as unknown as APIInteraction);
    } catch (err) {
      // discord.js could not read the payload (a type it does not know): nothing ran, Discord shows a failure.
      deps.log.error({ err, interactionId: parsed.id, type: parsed.type }, 'could not read an interaction');
      return reply.code(500).send({ error: 'unreadable interaction' });
    }
    return reply.code(202).send();
  });
  await app.listen({ port: config.INTERACTIONS_PORT, host: config.INTERACTIONS_HOST });
  const { port } = app.server.address() as AddressInfo;
  const host = config.INTERACTIONS_HOST.includes(':') ? `[${config.INTERACTIONS_HOST}]` : config.INTERACTIONS_HOST;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}${INTERACTIONS_PATH}`;
  deps.log.info({ url }, 'interactions endpoint listening');
  let closing: Promise<void> | undefined;
  return {
    /** Where this replica listens (the public URL is the load balancer's). */
    url,
    async close(): Promise<void> {
      closing ??= app.close();
      await closing;
    },
  };
}
export type InteractionsEndpoint = Awaited<ReturnType<typeof startInteractionsEndpoint>>;

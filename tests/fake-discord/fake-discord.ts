import { generateKeyPairSync, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  buildOptions, member, message, OPTION_TYPE, PERMISSIONS, roleRecord, snowflake, user,
  type AttachmentRecord, type CommandOption, type FakeMessage, type MemberOptions, type OptionValue,
} from './payloads.js';

/**
 * A local Discord for tests: REST under /api/v10, a CDN under /attachments, and a WebSocket gateway under /gateway,
 * all on 127.0.0.1. The real discord.js Client (or @discordjs/rest) talks to it unchanged:
 * `new Client({ rest: { api: fake.apiUrl } })` — the gateway URL comes from GET /gateway/bot like on Discord.
 * Every REST request is recorded (JSON body and multipart files) so tests assert on what the bot sent.
 */

export interface RecordedFile {
  field: string;
  filename: string;
  contentType: string;
  bytes: Buffer;
}

export interface RecordedRequest {
  method: string;
  /** Path below /api/v10, e.g. `/interactions/1/tok/callback`. */
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
  /** The JSON body (`payload_json` for multipart), or undefined. */
  body: any;
  files: RecordedFile[];
  at: number;
  status: number;
}

export interface InteractionState {
  id: string;
  token: string;
  type: number;
  /** The first callback's body, once the bot answered. */
  callback?: { type: number; data?: any };
  callbackAt?: number;
  sentAt: number;
  /** The message the interaction's @original refers to (reply, or the component's message for type 6/7). */
  originalId?: string;
  followups: string[];
  /** The shard ids of the gateway sessions the INTERACTION_CREATE was dispatched to. */
  dispatchedOn: number[];
  /** With an interactions endpoint set: the bot's answer to the signed POST. */
  delivery?: Promise<EndpointAnswer>;
}

/** What an interactions endpoint answered to a POST. */
export interface EndpointAnswer {
  status: number;
  body: any;
}

export interface FakeDiscordOptions {
  applicationId?: string;
  botUser?: { id?: string; username?: string };
  guild?: { id?: string; name?: string; locale?: string };
  channelId?: string;
  /** Interval the gateway asks heartbeats at (ms). */
  heartbeatIntervalMs?: number;
  /** Extra guild roles (besides @everyone); default: one role named "Moderators" (see moderatorRoleId). */
  roles?: Array<{ id: string; name: string }>;
  /** The shard count GET /gateway/bot recommends (default 1). */
  recommendedShards?: number;
}

/** The shard a guild's events travel on, as Discord computes it. */
export function shardOf(guildId: string, shardCount: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

export interface InteractionCommon {
  member?: MemberOptions;
  /** The user's client locale (e.g. 'ko', 'en-US'). */
  locale?: string;
  guildId?: string | null;
  channelId?: string;
  /** `attachment_size_limit` of the interaction (bytes). */
  attachmentSizeLimit?: number;
  /**
   * Sends the gateway dispatch on this shard instead of the guild's own, as after Discord moved the guild to
   * another shard (a re-shard) while its old messages keep their buttons.
   */
  viaShard?: number;
}

export interface SlashOptions extends InteractionCommon {
  name: string;
  subcommand?: string;
  subcommandGroup?: string;
  options?: Record<string, OptionValue>;
}

export interface AutocompleteOptions extends SlashOptions {
  focused: string;
}

export interface ComponentOptions extends InteractionCommon {
  customId: string;
  /** 2 button, 3 string select. */
  componentType?: number;
  values?: string[];
  /** The message the component sits on; defaults to a fresh bot message. */
  message?: FakeMessage;
}

export interface ContextMenuOptions extends InteractionCommon {
  name: string;
  target: FakeMessage;
}

export interface ModalSubmitOptions extends InteractionCommon {
  customId: string;
  fields: Record<string, string>;
}

/** What a hook answers: a JSON body, or `raw` text sent as is (with `contentType`, default application/json). */
export interface OverrideAnswer {
  status: number;
  body?: unknown;
  raw?: string;
  contentType?: string;
}
type Override = (request: RecordedRequest) => OverrideAnswer | undefined;

const API_PREFIX = '/api/v10';

export class FakeDiscord {
  readonly applicationId: string;
  readonly botUser: ReturnType<typeof user>;
  readonly guildId: string;
  readonly guildName: string;
  readonly guildLocale: string;
  readonly channelId: string;
  readonly roles: Array<{ id: string; name: string }>;
  readonly requests: RecordedRequest[] = [];
  readonly interactions = new Map<string, InteractionState>();
  readonly messages = new Map<string, FakeMessage>();
  readonly globalCommands: any[] = [];
  readonly guildCommands = new Map<string, any[]>();
  /** Autocomplete answers by interaction id. */
  readonly gatewayEvents: Array<{ op: number; t?: string }> = [];
  /** `hold`: full downloads (not range reads) of the file wait for it, e.g. to act while a worker downloads. */
  private readonly cdn = new Map<string, { bytes: Buffer; contentType: string; hold?: Promise<void> }>();
  private readonly expiredTokens = new Set<string>();
  /** Direct-message channels by user id (POST /users/@me/channels). */
  readonly dmChannels = new Map<string, string>();
  private readonly refusingDms = new Set<string>();
  /** `${channelId}:${nonce}` → message id, for enforce_nonce. */
  private readonly nonces = new Map<string, string>();
  private readonly overrides: Override[] = [];
  private readonly sockets = new Set<WebSocket>();
  /** Identified sessions and their `[shard_id, num_shards]`. */
  private readonly identified = new Map<WebSocket, [number, number]>();
  /** Guilds besides the main one (guildOnShard), each with its own text channel. */
  private readonly extraGuilds = new Map<string, { channelId: string }>();
  private readonly recommendedShards: number;
  /** The application's Ed25519 key pair: HTTP interactions are signed with it like Discord signs them. */
  private readonly signingKeys = generateKeyPairSync('ed25519');
  /**
   * The bot's Interactions Endpoint URL: when set, interactions are POSTed there (signed) instead of being
   * dispatched on the gateway, like Discord does once an application has an endpoint.
   */
  interactionsEndpoint: string | undefined;
  /** Shard of each session id, for RESUME. */
  private readonly sessions = new Map<string, [number, number]>();
  private readonly waiters = new Set<() => void>();
  private readonly heartbeatIntervalMs: number;
  private server: Server | undefined;
  private wss: WebSocketServer | undefined;
  private seq = 0;
  private port = 0;

  constructor(options: FakeDiscordOptions = {}) {
    this.applicationId = options.applicationId ?? snowflake();
    this.botUser = user({ id: options.botUser?.id ?? this.applicationId, username: options.botUser?.username ?? 'hairstyler', bot: true });
    this.guildId = options.guild?.id ?? snowflake();
    this.guildName = options.guild?.name ?? 'Fake Guild';
    this.guildLocale = options.guild?.locale ?? 'en-US';
    this.channelId = options.channelId ?? snowflake();
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 41_250;
    this.roles = options.roles ?? [{ id: snowflake(), name: 'Moderators' }];
    this.recommendedShards = options.recommendedShards ?? 1;
  }

  /**
   * Adds a guild (with its own channel) whose events Discord routes to `shardId` of `shardCount`; it is in READY
   * and gets a GUILD_CREATE on that shard's sessions (add it before the bot logs in).
   */
  guildOnShard(shardId: number, shardCount: number): { guildId: string; channelId: string } {
    let guildId = snowflake();
    for (let at = Date.now(); shardOf(guildId, shardCount) !== shardId; at += 1) guildId = snowflake(at);
    const channelId = snowflake();
    this.extraGuilds.set(guildId, { channelId });
    return { guildId, channelId };
  }

  /** The application's public key as the developer portal shows it (64 hex characters): DISCORD_PUBLIC_KEY. */
  get publicKeyHex(): string {
    const jwk = this.signingKeys.publicKey.export({ format: 'jwk' });
    return Buffer.from(String(jwk.x), 'base64url').toString('hex');
  }

  /** Discord's signature headers for `body`, signed at `timestamp` (Unix seconds; default now). */
  signatureHeaders(body: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
    const signature = sign(null, Buffer.from(`${timestamp}${body}`), this.signingKeys.privateKey).toString('hex');
    return { 'x-signature-ed25519': signature, 'x-signature-timestamp': String(timestamp) };
  }

  /** POSTs `payload` to the interactions endpoint, signed unless `headers` replaces the signature headers. */
  async postInteraction(payload: unknown, headers?: Record<string, string>): Promise<EndpointAnswer> {
    if (!this.interactionsEndpoint) throw new Error('fake-discord: no interactionsEndpoint set');
    const body = JSON.stringify(payload);
    const response = await fetch(this.interactionsEndpoint, {
      method: 'POST', body, headers: { 'content-type': 'application/json', 'user-agent': 'Discord-Interactions/1.0 (+https://discord.com)', ...(headers ?? this.signatureHeaders(body)) },
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch { /* not JSON: kept as text */ }
    return { status: response.status, body: parsed };
  }

  /** The PING Discord sends when an Interactions Endpoint URL is saved in the developer portal. */
  async ping(headers?: Record<string, string>): Promise<EndpointAnswer> {
    return await this.postInteraction({ id: snowflake(), application_id: this.applicationId, type: 1, token: `ping-${snowflake()}`, version: 1, user: user() }, headers);
  }

  /** The `[shard_id, num_shards]` of every identified gateway session. */
  get identifiedShards(): Array<[number, number]> {
    return [...this.identified.values()];
  }

  private allGuildIds(): string[] {
    return [this.guildId, ...this.extraGuilds.keys()];
  }

  /** Id of the first extra role (the default "Moderators"). */
  get moderatorRoleId(): string {
    return this.roles[0]!.id;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** For `new Client({ rest: { api } })` and DISCORD_API_URL. */
  get apiUrl(): string {
    return `${this.origin}/api`;
  }

  get cdnUrl(): string {
    return this.origin;
  }

  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.port}/gateway`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: String(error), code: 0 }));
      });
    });
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => {
      if (!req.url?.startsWith('/gateway')) return socket.destroy();
      this.wss!.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
    this.wss?.close();
    if (this.server) {
      this.server.closeAllConnections();
      await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    }
    this.server = undefined;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Test controls

  /** Stores bytes on the fake CDN and returns the attachment record Discord would send. `size` may lie (big files). */
  addAttachment(file: { filename: string; bytes: Buffer; contentType?: string; size?: number; width?: number; height?: number; hold?: Promise<void> }): AttachmentRecord {
    const id = snowflake();
    const path = `/attachments/${this.channelId}/${id}/${encodeURIComponent(file.filename)}`;
    this.cdn.set(path, { bytes: file.bytes, contentType: file.contentType ?? 'application/octet-stream', ...(file.hold ? { hold: file.hold } : {}) });
    return {
      id,
      filename: file.filename,
      size: file.size ?? file.bytes.length,
      url: `${this.origin}${path}?ex=0&is=0&hm=fake`,
      proxy_url: `${this.origin}${path}`,
      ...(file.contentType ? { content_type: file.contentType } : {}),
      ...(file.width ? { width: file.width, height: file.height } : {}),
    };
  }

  /** A message in the test channel, e.g. a user's post with an image for the context menu. */
  addMessage(fields: { author?: ReturnType<typeof user>; content?: string; attachments?: AttachmentRecord[] } = {}): FakeMessage {
    const msg = message({ channelId: this.channelId, guildId: this.guildId, author: fields.author ?? user(), content: fields.content ?? '', attachments: fields.attachments ?? [] });
    this.messages.set(msg.id, msg);
    return msg;
  }

  /** Webhook calls with this interaction token answer 401 / 50027 (Invalid Webhook Token), like after 15 minutes. */
  expireToken(token: string): void {
    this.expiredTokens.add(token);
  }

  /** Interaction callbacks (defer, reply) answer this many ms late, like a slow Discord; 0 turns it off. */
  callbackDelayMs = 0;

  /** Direct messages to this user answer 403 / 50007 (Cannot send messages to this user), like closed DMs. */
  refuseDirectMessages(userId: string): void {
    this.refusingDms.add(userId);
  }

  /** Messages the bot sent to a user by direct message. */
  directMessages(userId: string): FakeMessage[] {
    const channel = this.dmChannels.get(userId);
    return channel ? [...this.messages.values()].filter((m) => m.channel_id === channel) : [];
  }

  /** A hook that may answer a request itself (e.g. a 500 or a 429); return undefined to let the fake handle it. */
  override(hook: Override): () => void {
    this.overrides.push(hook);
    return () => this.overrides.splice(this.overrides.indexOf(hook), 1);
  }

  /**
   * Sends a gateway dispatch like Discord: to the sessions of the shard its guild maps to (`shardOf`), shard 0 for
   * events without a guild, or to `viaShard`. Returns the shard ids it went to.
   */
  dispatch(t: string, d: unknown, viaShard?: number): number[] {
    const guildId = (d as { guild_id?: string } | null)?.guild_id;
    const shards: number[] = [];
    for (const [ws, [shardId, shardCount]] of this.identified) {
      const wanted = viaShard ?? (guildId ? shardOf(guildId, shardCount) : 0);
      if (shardId !== wanted) continue;
      this.send(ws, { op: 0, t, s: ++this.seq, d });
      shards.push(shardId);
    }
    return shards;
  }

  /** Resolves once a gateway session has identified (the client is logged in). */
  async waitForIdentify(timeoutMs = 10_000): Promise<void> {
    await this.waitFor(() => this.identified.size > 0 || undefined, timeoutMs, 'a gateway IDENTIFY');
  }

  /** Polls `check` after every request and gateway message until it returns a value other than undefined. */
  async waitFor<T>(check: () => T | undefined, timeoutMs = 10_000, what = 'condition'): Promise<T> {
    const first = check();
    if (first !== undefined) return first;
    return await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(tick);
        reject(new Error(`fake-discord: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const tick = () => {
        let value: T | undefined;
        try {
          value = check();
        } catch (error) {
          clearTimeout(timer);
          this.waiters.delete(tick);
          reject(error);
          return;
        }
        if (value !== undefined) {
          clearTimeout(timer);
          this.waiters.delete(tick);
          resolve(value);
        }
      };
      this.waiters.add(tick);
    });
  }

  /** Waits for the bot's first callback to an interaction. */
  async waitForCallback(interactionId: string, timeoutMs = 10_000): Promise<NonNullable<InteractionState['callback']>> {
    return await this.waitFor(() => this.interactions.get(interactionId)?.callback, timeoutMs, `the callback of ${interactionId}`);
  }

  /** Waits for a request matching `match` made after `since` (ms timestamp; default: any time). */
  async waitForRequest(match: (r: RecordedRequest) => boolean, timeoutMs = 10_000, since = 0): Promise<RecordedRequest> {
    return await this.waitFor(() => this.requests.find((r) => r.at >= since && match(r)), timeoutMs, 'a matching request');
  }

  /** Requests touching an interaction's webhook (its token): edits of @original and follow-ups. */
  webhookRequests(token: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.startsWith(`/webhooks/${this.applicationId}/${token}`));
  }

  /** The current @original message of an interaction. */
  original(interactionId: string): FakeMessage | undefined {
    const id = this.interactions.get(interactionId)?.originalId;
    return id ? this.messages.get(id) : undefined;
  }

  cdnBytes(url: string): Buffer | undefined {
    return this.cdn.get(new URL(url).pathname)?.bytes;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Interaction injection

  slashCommand(opts: SlashOptions): InteractionState {
    return this.inject(2, opts, { id: snowflake(), name: opts.name, type: 1, ...this.commandData(opts) });
  }

  autocomplete(opts: AutocompleteOptions): InteractionState {
    return this.inject(4, opts, { id: snowflake(), name: opts.name, type: 1, ...this.commandData(opts, opts.focused) });
  }

  component(opts: ComponentOptions): InteractionState {
    const msg = opts.message ?? message({ channelId: opts.channelId ?? this.channelId, guildId: this.guildId, author: this.botUser, applicationId: this.applicationId });
    this.messages.set(msg.id, msg);
    const data = { custom_id: opts.customId, component_type: opts.componentType ?? 2, ...(opts.values ? { values: opts.values } : {}) };
    return this.inject(3, opts, data, msg);
  }

  selectMenu(opts: Omit<ComponentOptions, 'componentType'> & { values: string[] }): InteractionState {
    return this.component({ ...opts, componentType: 3 });
  }

  messageContextMenu(opts: ContextMenuOptions): InteractionState {
    this.messages.set(opts.target.id, opts.target);
    return this.inject(2, opts, {
      id: snowflake(), name: opts.name, type: 3, target_id: opts.target.id,
      resolved: { messages: { [opts.target.id]: opts.target } },
    });
  }

  modalSubmit(opts: ModalSubmitOptions): InteractionState {
    return this.inject(5, opts, {
      custom_id: opts.customId,
      components: Object.entries(opts.fields).map(([customId, value]) => ({
        type: 1, components: [{ type: 4, custom_id: customId, value }],
      })),
    });
  }

  private commandData(opts: SlashOptions, focused?: string) {
    const { options, resolved } = buildOptions(opts.options ?? {}, focused);
    let list: CommandOption[] = options;
    if (opts.subcommand) list = [{ name: opts.subcommand, type: OPTION_TYPE.SUB_COMMAND, options: list }];
    if (opts.subcommandGroup) list = [{ name: opts.subcommandGroup, type: OPTION_TYPE.SUB_COMMAND_GROUP, options: list }];
    return { options: list, ...(Object.keys(resolved).length ? { resolved } : {}) };
  }

  /**
   * A slash command's payload, known to the fake (its callback is accepted) but not sent anywhere: for tests that
   * deliver it themselves (postInteraction with their own headers).
   */
  slashCommandPayload(opts: SlashOptions): { state: InteractionState; payload: Record<string, unknown> } {
    return this.prepare(2, opts, { id: snowflake(), name: opts.name, type: 1, ...this.commandData(opts) });
  }

  private inject(type: number, opts: InteractionCommon, data: unknown, msg?: FakeMessage): InteractionState {
    const { state, payload } = this.prepare(type, opts, data, msg);
    if (this.interactionsEndpoint) {
      // A 200 with an interaction response in the body answers the interaction like a callback does; a 202 says the
      // answer comes through the callback endpoint.
      state.delivery = this.postInteraction(payload).then((answer) => {
        if (answer.status === 200 && typeof answer.body?.type === 'number' && !state.callback) {
          state.callback = { type: answer.body.type, data: answer.body.data };
          state.callbackAt = Date.now();
        }
        return answer;
      });
      state.delivery.catch(() => undefined).finally(() => this.notify());
    } else state.dispatchedOn = this.dispatch('INTERACTION_CREATE', payload, opts.viaShard);
    return state;
  }

  private prepare(type: number, opts: InteractionCommon, data: unknown, msg?: FakeMessage): { state: InteractionState; payload: Record<string, unknown> } {
    const id = snowflake();
    const token = `itok-${id}-${Math.random().toString(36).slice(2)}`;
    const guildId = opts.guildId === undefined ? this.guildId : opts.guildId;
    const channelId = opts.channelId ?? (guildId ? this.extraGuilds.get(guildId)?.channelId : undefined) ?? this.channelId;
    const who = member(opts.member);
    const payload = {
      id,
      application_id: this.applicationId,
      type,
      data,
      token,
      version: 1,
      locale: opts.locale ?? 'en-US',
      app_permissions: PERMISSIONS.administrator,
      entitlements: [],
      authorizing_integration_owners: { '0': guildId ?? '0' },
      context: guildId ? 0 : 1,
      attachment_size_limit: opts.attachmentSizeLimit ?? 10 * 1024 * 1024,
      channel_id: channelId,
      channel: { id: channelId, type: 0, guild_id: guildId ?? undefined, name: 'general', permissions: who.permissions },
      ...(guildId ? { guild_id: guildId, guild_locale: this.guildLocale, member: who, guild: { id: guildId, locale: this.guildLocale, features: [] } } : { user: who.user }),
      ...(msg ? { message: msg } : {}),
    };
    const state: InteractionState = { id, token, type, sentAt: Date.now(), followups: [], dispatchedOn: [], ...(msg ? { originalId: msg.id } : {}) };
    this.interactions.set(id, state);
    return { state, payload };
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Gateway

  private onSocket(ws: WebSocket): void {
    this.sockets.add(ws);
    ws.on('close', () => {
      this.sockets.delete(ws);
      this.identified.delete(ws);
    });
    ws.on('message', (raw) => {
      let packet: { op: number; d: any };
      try {
        packet = JSON.parse(String(raw));
      } catch {
        return ws.close(4002, 'Decode error');
      }
      this.gatewayEvents.push({ op: packet.op });
      this.onGatewayPacket(ws, packet);
      this.notify();
    });
    this.send(ws, { op: 10, d: { heartbeat_interval: this.heartbeatIntervalMs } });
  }

  private onGatewayPacket(ws: WebSocket, packet: { op: number; d: any }): void {
    switch (packet.op) {
      case 1: // heartbeat
        this.send(ws, { op: 11 });
        break;
      case 2: { // identify
        const sessionId = `session-${snowflake()}`;
        const shard: [number, number] = Array.isArray(packet.d?.shard) ? [Number(packet.d.shard[0]), Number(packet.d.shard[1])] : [0, 1];
        if (!(shard[1] >= 1 && shard[0] >= 0 && shard[0] < shard[1])) return ws.close(4010, 'Invalid shard');
        this.identified.set(ws, shard);
        this.sessions.set(sessionId, shard);
        const guilds = this.allGuildIds().filter((id) => shardOf(id, shard[1]) === shard[0]);
        this.send(ws, {
          op: 0, t: 'READY', s: ++this.seq, d: {
            v: 10, user: { ...this.botUser, verified: true, mfa_enabled: false, flags: 0 },
            guilds: guilds.map((id) => ({ id, unavailable: true })), session_id: sessionId,
            resume_gateway_url: this.gatewayUrl, shard,
            application: { id: this.applicationId, flags: 0 },
          },
        });
        for (const id of guilds) this.send(ws, { op: 0, t: 'GUILD_CREATE', s: ++this.seq, d: this.guildPayload(id) });
        break;
      }
      case 6: // resume
        this.identified.set(ws, this.sessions.get(String(packet.d?.session_id)) ?? [0, 1]);
        this.send(ws, { op: 0, t: 'RESUMED', s: ++this.seq, d: {} });
        break;
      default:
        break; // presence/voice updates etc. are accepted and ignored
    }
  }

  private guildPayload(guildId = this.guildId) {
    const channelId = this.extraGuilds.get(guildId)?.channelId ?? this.channelId;
    return {
      id: guildId, name: this.guildName, icon: null, splash: null, discovery_splash: null,
      owner_id: snowflake(), afk_channel_id: null, afk_timeout: 300, verification_level: 0,
      default_message_notifications: 0, explicit_content_filter: 0, features: [], mfa_level: 0,
      system_channel_id: channelId, system_channel_flags: 0, rules_channel_id: null, vanity_url_code: null,
      description: null, banner: null, premium_tier: 0, preferred_locale: this.guildLocale,
      public_updates_channel_id: null, nsfw_level: 0, premium_progress_bar_enabled: false,
      roles: [{ ...roleRecord(guildId, '@everyone', PERMISSIONS.member), position: 0 }, ...this.roles.map((r) => roleRecord(r.id, r.name))],
      emojis: [], stickers: [], joined_at: new Date().toISOString(), large: false, unavailable: false,
      member_count: 2, voice_states: [], members: [], presences: [], threads: [], stage_instances: [],
      guild_scheduled_events: [], soundboard_sounds: [],
      channels: [{ id: channelId, type: 0, guild_id: guildId, name: 'general', position: 0, permission_overwrites: [], nsfw: false, topic: null, last_message_id: null, parent_id: null, rate_limit_per_user: 0 }],
    };
  }

  private send(ws: WebSocket, packet: unknown): void {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(packet));
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    if (req.method === 'GET' && url.pathname.startsWith('/attachments/')) {
      const held = this.cdn.get(url.pathname)?.hold;
      if (held && !req.headers.range) await held;
      return this.serveCdn(url.pathname, req, res);
    }
    if (!url.pathname.startsWith(API_PREFIX)) return this.reply(res, 404, { message: '404: Not Found', code: 0 });

    const raw = await readBody(req);
    const { body, files } = await parseBody(raw, req.headers['content-type']);
    const record: RecordedRequest = {
      method: req.method ?? 'GET', path: decodeURIComponent(url.pathname.slice(API_PREFIX.length)), query: url.searchParams,
      authorization: req.headers.authorization, body, files, at: Date.now(), status: 0,
    };
    this.requests.push(record);
    if (this.callbackDelayMs > 0 && record.path.endsWith('/callback')) await new Promise((resolve) => setTimeout(resolve, this.callbackDelayMs));
    const forced = this.overrides.map((hook) => hook(record)).find((x) => x !== undefined);
    const { status, body: answer, raw: text, contentType } = forced ?? this.route(record);
    record.status = status;
    if (text !== undefined) {
      res.writeHead(status, { 'content-type': contentType ?? 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    } else this.reply(res, status, answer);
    this.notify();
  }

  private route(r: RecordedRequest): OverrideAnswer {
    const parts = r.path.split('/').filter(Boolean);
    const [head, a, b, c, d, e] = parts;
    const app = this.applicationId;
    const m = r.method;
    if (head === 'gateway') {
      // max_concurrency 16: shards identify at once instead of 5 s apart.
      return { status: 200, body: { url: this.gatewayUrl, shards: this.recommendedShards, session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 16 } } };
    }
    if (head === 'users' && a === '@me' && b === 'channels' && m === 'POST') {
      const recipient = String(r.body?.recipient_id ?? '');
      const id = this.dmChannels.get(recipient) ?? snowflake();
      this.dmChannels.set(recipient, id);
      return { status: 200, body: { id, type: 1, recipients: [user({ id: recipient })] } };
    }
    if (head === 'users' && a === '@me') return { status: 200, body: this.botUser };
    if (head === 'applications') {
      if (a === '@me') return { status: 200, body: { id: app, name: this.botUser.username, flags: 0, bot: this.botUser } };
      if (b === 'commands' && !c) return this.commands(m, r.body, this.globalCommands, undefined);
      if (b === 'guilds' && c && d === 'commands' && !e) {
        const list = this.guildCommands.get(c) ?? [];
        this.guildCommands.set(c, list);
        return this.commands(m, r.body, list, c);
      }
    }
    if (head === 'interactions' && a && b && c === 'callback' && m === 'POST') return this.callback(a, b, r);
    if (head === 'webhooks' && a === app && b) {
      if (this.expiredTokens.has(b)) return { status: 401, body: { message: 'Invalid Webhook Token', code: 50027 } };
      const interaction = [...this.interactions.values()].find((i) => i.token === b);
      if (!interaction) return { status: 404, body: { message: 'Unknown Webhook', code: 10015 } };
      if (!c && m === 'POST') return this.followup(interaction, r);
      if (c === 'messages' && d) return this.webhookMessage(interaction, d, r);
    }
    if (head === 'channels' && a) {
      if (!b && m === 'GET') return { status: 200, body: { id: a, type: 0, guild_id: this.guildId, name: 'general', position: 0, permission_overwrites: [] } };
      if (b === 'messages' && !c && m === 'POST') {
        const dmOf = [...this.dmChannels.entries()].find(([, channel]) => channel === a)?.[0];
        if (dmOf && this.refusingDms.has(dmOf)) return { status: 403, body: { message: 'Cannot send messages to this user', code: 50007 } };
        const nonceKey = r.body?.enforce_nonce && r.body?.nonce !== undefined ? `${a}:${r.body.nonce}` : undefined;
        const earlier = nonceKey ? this.messages.get(this.nonces.get(nonceKey) ?? '') : undefined;
        if (earlier) return { status: 200, body: earlier };
        const msg = message({ channelId: a, guildId: dmOf ? null : this.guildId, author: this.botUser, ...this.messageFields(r) });
        this.messages.set(msg.id, msg);
        if (nonceKey) this.nonces.set(nonceKey, msg.id);
        return { status: 200, body: msg };
      }
      if (b === 'messages' && c) return this.plainMessage(c, r);
    }
    return { status: 404, body: { message: `fake-discord has no route for ${m} ${r.path}`, code: 0 } };
  }

  private commands(method: string, body: any, list: any[], guildId: string | undefined): { status: number; body?: unknown } {
    const stamp = (cmd: any) => ({ ...cmd, id: cmd.id ?? snowflake(), application_id: this.applicationId, version: snowflake(), ...(guildId ? { guild_id: guildId } : {}) });
    if (method === 'GET') return { status: 200, body: list };
    if (method === 'PUT') {
      if (!Array.isArray(body)) return { status: 400, body: { message: 'Invalid Form Body', code: 50035 } };
      list.splice(0, list.length, ...body.map(stamp));
      return { status: 200, body: list };
    }
    if (method === 'POST') {
      const cmd = stamp(body);
      list.push(cmd);
      return { status: 201, body: cmd };
    }
    return { status: 405, body: { message: '405: Method Not Allowed', code: 0 } };
  }

  private callback(id: string, token: string, r: RecordedRequest): { status: number; body?: unknown } {
    const interaction = this.interactions.get(id);
    if (!interaction || interaction.token !== token) return { status: 404, body: { message: 'Unknown interaction', code: 10062 } };
    if (interaction.callback) return { status: 400, body: { message: 'Interaction has already been acknowledged.', code: 40060 } };
    const type = Number(r.body?.type);
    interaction.callback = { type, data: r.body?.data };
    interaction.callbackAt = r.at;
    const data = r.body?.data ?? {};
    if (type === 4 || type === 5) {
      const msg = message({
        channelId: this.channelId, guildId: this.guildId, author: this.botUser, ...this.messageFields(r),
        flags: (data.flags ?? 0) | (type === 5 ? 128 : 0), webhookId: this.applicationId, applicationId: this.applicationId,
        interaction: { id, type: interaction.type, name: 'command', user: user() },
      });
      this.messages.set(msg.id, msg);
      interaction.originalId = msg.id;
    } else if (type === 7 && interaction.originalId) {
      this.patchMessage(interaction.originalId, r);
    }
    const withResponse = r.query.get('with_response') === 'true';
    if (!withResponse) return { status: 204 };
    const original = interaction.originalId ? this.messages.get(interaction.originalId) : undefined;
    return {
      status: 200,
      body: {
        interaction: { id, type: interaction.type, response_message_id: original?.id, response_message_loading: type === 5, response_message_ephemeral: ((data.flags ?? 0) & 64) !== 0 },
        ...(original ? { resource: { type, message: original } } : {}),
      },
    };
  }

  private followup(interaction: InteractionState, r: RecordedRequest): { status: number; body?: unknown } {
    if (!interaction.callback) return { status: 404, body: { message: 'Unknown Webhook', code: 10015 } };
    const msg = message({ channelId: this.channelId, guildId: this.guildId, author: this.botUser, ...this.messageFields(r), webhookId: this.applicationId, applicationId: this.applicationId });
    this.messages.set(msg.id, msg);
    interaction.followups.push(msg.id);
    return { status: 200, body: msg };
  }

  private webhookMessage(interaction: InteractionState, which: string, r: RecordedRequest): { status: number; body?: unknown } {
    const id = which === '@original' ? interaction.originalId : which;
    if (!id || !this.messages.has(id)) return { status: 404, body: { message: 'Unknown Message', code: 10008 } };
    return this.plainMessage(id, r);
  }

  private plainMessage(id: string, r: RecordedRequest): { status: number; body?: unknown } {
    const msg = this.messages.get(id);
    if (!msg) return { status: 404, body: { message: 'Unknown Message', code: 10008 } };
    if (r.method === 'GET') return { status: 200, body: msg };
    if (r.method === 'DELETE') {
      this.messages.delete(id);
      return { status: 204 };
    }
    if (r.method === 'PATCH') return { status: 200, body: this.patchMessage(id, r) };
    return { status: 405, body: { message: '405: Method Not Allowed', code: 0 } };
  }

  private patchMessage(id: string, r: RecordedRequest): FakeMessage {
    const msg = this.messages.get(id)!;
    const fields = this.messageFields(r);
    const body = (r.path.endsWith('/callback') ? r.body?.data : r.body) ?? {};
    const next: FakeMessage = {
      ...msg,
      edited_timestamp: new Date().toISOString() as unknown as null,
      ...(body.content !== undefined ? { content: body.content ?? '' } : {}),
      ...(body.embeds !== undefined ? { embeds: body.embeds ?? [] } : {}),
      ...(body.components !== undefined ? { components: body.components ?? [] } : {}),
      ...(body.flags !== undefined ? { flags: body.flags } : {}),
      // Discord keeps only attachments listed in `attachments` plus the new uploads.
      ...(body.attachments !== undefined || fields.attachments.length > 0
        ? { attachments: [...msg.attachments.filter((a) => (body.attachments ?? []).some((k: any) => k.id === a.id)), ...fields.attachments] }
        : {}),
    };
    this.messages.set(id, next);
    return next;
  }

  /** Content, embeds, components and uploaded files (stored on the CDN) of a message-creating request. */
  private messageFields(r: RecordedRequest) {
    const body = r.body ?? {};
    const data = r.path.endsWith('/callback') ? (body.data ?? {}) : body;
    const attachments: AttachmentRecord[] = r.files.map((file) => this.addAttachment({ filename: file.filename, bytes: file.bytes, contentType: file.contentType }));
    return {
      content: data.content ?? '',
      embeds: data.embeds ?? [],
      components: data.components ?? [],
      attachments,
      ...(data.flags !== undefined ? { flags: data.flags } : {}),
    };
  }

  private serveCdn(pathname: string, req: IncomingMessage, res: ServerResponse): void {
    const file = this.cdn.get(pathname);
    if (!file) return this.reply(res, 404, { message: 'Not Found' });
    const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
    if (range) {
      const start = Number(range[1]);
      const end = Math.min(range[2] ? Number(range[2]) : file.bytes.length - 1, file.bytes.length - 1);
      res.writeHead(206, { 'content-type': file.contentType, 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${file.bytes.length}` });
      res.end(file.bytes.subarray(start, end + 1));
      return;
    }
    res.writeHead(200, { 'content-type': file.contentType, 'content-length': file.bytes.length });
    res.end(file.bytes);
  }

  private reply(res: ServerResponse, status: number, body: unknown): void {
    if (status === 204 || body === undefined) {
      res.writeHead(status);
      res.end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** JSON or multipart/form-data (`payload_json` + `files[n]`), parsed with the WHATWG Response parser. */
async function parseBody(raw: Buffer, contentType: string | undefined): Promise<{ body: any; files: RecordedFile[] }> {
  if (raw.length === 0) return { body: undefined, files: [] };
  if (contentType?.startsWith('multipart/form-data')) {
    const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
    const files: RecordedFile[] = [];
    let body: any;
    for (const [field, value] of form.entries()) {
      if (typeof value === 'string') {
        if (field === 'payload_json') body = JSON.parse(value);
      } else {
        files.push({ field, filename: value.name, contentType: value.type, bytes: Buffer.from(await value.arrayBuffer()) });
      }
    }
    return { body, files };
  }
  try {
    return { body: JSON.parse(raw.toString('utf8')), files: [] };
  } catch {
    return { body: raw.toString('utf8'), files: [] };
  }
}

export async function startFakeDiscord(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  return await new FakeDiscord(options).start();
}

import { AttachmentBuilder, Client, Events, GatewayIntentBits, MessageFlags, REST, Routes } from 'discord.js';
import { createPublicKey, verify } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { shardOf, startFakeDiscord, type FakeDiscord } from './index.js';

/** The fake must be good enough for the real discord.js Client: these checks keep it honest. */
describe('fake Discord', () => {
  let fake: FakeDiscord;
  let client: Client | undefined;

  beforeEach(async () => {
    fake = await startFakeDiscord();
  });
  afterEach(async () => {
    await client?.destroy();
    client = undefined;
    await fake.close();
  });

  async function login(): Promise<Client> {
    client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.apiUrl } });
    const ready = new Promise<void>((resolve) => client!.once(Events.ClientReady, () => resolve()));
    await client.login('fake-token');
    await ready;
    return client;
  }

  it('lets discord.js log in over the gateway and see the guild', async () => {
    const c = await login();
    expect(c.user?.id).toBe(fake.botUser.id);
    expect(c.guilds.cache.has(fake.guildId)).toBe(true);
    expect(fake.requests.some((r) => r.path === '/gateway/bot')).toBe(true);
  });

  it('dispatches a slash command and records the deferral and a multipart edit', async () => {
    const c = await login();
    c.on(Events.InteractionCreate, async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      const image = interaction.options.getAttachment('image', true);
      await interaction.editReply({ content: `${interaction.locale}:${image.name}`, files: [new AttachmentBuilder(Buffer.from('png-bytes'), { name: 'out.png' })] });
    });
    const attachment = fake.addAttachment({ filename: 'me.png', bytes: Buffer.from('x'), contentType: 'image/png' });
    const sent = fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image: attachment, shape: 'bob' }, locale: 'ko' });
    const callback = await fake.waitForCallback(sent.id);
    expect(callback.type).toBe(5);
    expect(callback.data.flags & 64).toBe(64);
    const edit = await fake.waitForRequest((r) => r.method === 'PATCH' && r.path.endsWith(`/${sent.token}/messages/@original`));
    expect(edit.body.content).toBe('ko:me.png');
    expect(edit.files[0]?.bytes.toString()).toBe('png-bytes');
    const original = fake.original(sent.id)!;
    expect(fake.cdnBytes(original.attachments[0]!.url)?.toString()).toBe('png-bytes');
  });

  it('answers autocomplete, components and context menus', async () => {
    const c = await login();
    c.on(Events.InteractionCreate, async (interaction) => {
      if (interaction.isAutocomplete()) await interaction.respond([{ name: interaction.options.getFocused(), value: 'v' }]);
      else if (interaction.isButton()) await interaction.update({ content: `clicked ${interaction.customId}` });
      else if (interaction.isStringSelectMenu()) await interaction.deferUpdate();
      else if (interaction.isMessageContextMenuCommand()) await interaction.reply({ content: String(interaction.targetMessage.attachments.size), flags: MessageFlags.Ephemeral });
    });
    const auto = fake.autocomplete({ name: 'hair', subcommand: 'try', options: { shape: 'bo' }, focused: 'shape' });
    expect(await fake.waitForCallback(auto.id)).toEqual({ type: 8, data: { choices: [{ name: 'bo', value: 'v' }] } });
    const button = fake.component({ customId: 'x:1' });
    expect((await fake.waitForCallback(button.id)).type).toBe(7);
    expect(fake.original(button.id)?.content).toBe('clicked x:1');
    const select = fake.selectMenu({ customId: 'y', values: ['a'] });
    expect((await fake.waitForCallback(select.id)).type).toBe(6);
    const target = fake.addMessage({ attachments: [fake.addAttachment({ filename: 'a.png', bytes: Buffer.from('1'), contentType: 'image/png' })] });
    const menu = fake.messageContextMenu({ name: 'Try a hairstyle', target });
    expect((await fake.waitForCallback(menu.id)).data.content).toBe('1');
  });

  it('answers heartbeats with ACKs (discord.js measures a ping)', async () => {
    await fake.close();
    fake = await startFakeDiscord({ heartbeatIntervalMs: 150 });
    const c = await login();
    await fake.waitFor(() => fake.gatewayEvents.filter((e) => e.op === 1).length >= 2 || undefined, 5_000, 'two heartbeats');
    await fake.waitFor(() => (c.ws.ping >= 0 ? true : undefined), 5_000, 'a ping');
    expect(c.ws.ping).toBeGreaterThanOrEqual(0);
  });

  it('registers commands globally and per guild and expires tokens', async () => {
    const rest = new REST({ api: fake.apiUrl }).setToken('fake-token');
    await rest.put(Routes.applicationCommands(fake.applicationId), { body: [{ name: 'hair', description: 'd' }] });
    await rest.put(Routes.applicationGuildCommands(fake.applicationId, fake.guildId), { body: [{ name: 'a', description: 'd' }, { name: 'b', description: 'd' }] });
    expect(fake.globalCommands.map((x) => x.name)).toEqual(['hair']);
    expect(fake.guildCommands.get(fake.guildId)?.length).toBe(2);
    const state = fake.slashCommand({ name: 'hair' });
    fake.expireToken(state.token);
    await expect(rest.patch(Routes.webhookMessage(fake.applicationId, state.token, '@original'), { body: { content: 'x' } }))
      .rejects.toMatchObject({ code: 50027 });
  });

  it('shards like Discord: each guild on (id >> 22) % count, READY listing only that shard\'s guilds', async () => {
    const zero = fake.guildOnShard(0, 2);
    const one = fake.guildOnShard(1, 2);
    expect([shardOf(zero.guildId, 2), shardOf(one.guildId, 2)]).toEqual([0, 1]);
    client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.apiUrl }, shards: [0, 1], shardCount: 2 });
    const ready = new Promise<void>((resolve) => client!.once(Events.ClientReady, () => resolve()));
    await client.login('fake-token');
    await ready;
    expect(client.guilds.cache.get(zero.guildId)?.shardId).toBe(0);
    expect(client.guilds.cache.get(one.guildId)?.shardId).toBe(1);
    expect(fake.component({ customId: 'x:1', guildId: one.guildId }).dispatchedOn).toEqual([1]);
    expect(fake.component({ customId: 'x:1', guildId: one.guildId, viaShard: 0 }).dispatchedOn).toEqual([0]);
  });

  it('POSTs interactions to an endpoint signed as Discord signs them (Ed25519 over timestamp + body)', async () => {
    const seen: Array<{ headers: Record<string, string | string[] | undefined>; body: string }> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        seen.push({ headers: req.headers, body });
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      fake.interactionsEndpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/interactions`;
      const sent = fake.slashCommand({ name: 'hair', subcommand: 'privacy' });
      expect(await sent.delivery).toEqual({ status: 202, body: undefined });
      const [{ headers, body }] = seen as [typeof seen[0]];
      expect(JSON.parse(body)).toMatchObject({ id: sent.id, token: sent.token, type: 2 });
      const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(fake.publicKeyHex, 'hex').toString('base64url') }, format: 'jwk' });
      const signed = Buffer.from(`${String(headers['x-signature-timestamp'])}${body}`);
      expect(verify(null, signed, key, Buffer.from(String(headers['x-signature-ed25519']), 'hex'))).toBe(true);
      expect(fake.gatewayEvents).toEqual([]);
    } finally {
      server.close();
    }
  });
});

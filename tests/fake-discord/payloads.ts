/**
 * Discord API payload builders for the fake: snowflakes, users, members, messages, attachments and the five kinds
 * of interaction a test can inject. Shapes follow discord-api-types v10 closely enough for discord.js to parse.
 */

const DISCORD_EPOCH = 1420070400000n;
let increment = 0n;

/** A fresh snowflake (time-ordered, unique within the process). */
export function snowflake(at = Date.now()): string {
  increment = (increment + 1n) & 0xfffn;
  return (((BigInt(at) - DISCORD_EPOCH) << 22n) | (1n << 17n) | increment).toString();
}

export interface FakeUser {
  id: string;
  username: string;
  global_name?: string | null;
  discriminator?: string;
  avatar?: string | null;
  bot?: boolean;
}

export function user(partial: Partial<FakeUser> & { id?: string } = {}): Required<FakeUser> {
  const id = partial.id ?? snowflake();
  return {
    id,
    username: partial.username ?? `user${id.slice(-4)}`,
    global_name: partial.global_name ?? null,
    discriminator: partial.discriminator ?? '0',
    avatar: partial.avatar ?? null,
    bot: partial.bot ?? false,
  };
}

/** Permission bits used by the tests (as decimal strings, like Discord sends them). */
export const PERMISSIONS = {
  none: '0',
  /** View channel + send messages + attach files + use application commands. */
  member: (1024n | 2048n | 32768n | (1n << 31n)).toString(),
  manageGuild: (1024n | 2048n | 32768n | (1n << 31n) | 32n).toString(),
  administrator: (8n | 32n | 1024n | 2048n | 32768n | (1n << 31n)).toString(),
} as const;

export interface MemberOptions {
  user?: Partial<FakeUser>;
  /** Decimal string of permission bits in the channel (interaction `member.permissions`). */
  permissions?: string;
  roles?: string[];
  nick?: string | null;
}

export function member(options: MemberOptions = {}) {
  return {
    user: user(options.user),
    roles: options.roles ?? [],
    permissions: options.permissions ?? PERMISSIONS.member,
    nick: options.nick ?? null,
    avatar: null,
    joined_at: new Date(Date.now() - 86_400_000).toISOString(),
    premium_since: null,
    deaf: false,
    mute: false,
    pending: false,
    flags: 0,
  };
}

export interface AttachmentRecord {
  id: string;
  filename: string;
  size: number;
  url: string;
  proxy_url: string;
  content_type?: string;
  width?: number;
  height?: number;
}

export function message(fields: {
  id?: string;
  channelId: string;
  guildId?: string | null;
  author: ReturnType<typeof user>;
  content?: string;
  embeds?: unknown[];
  components?: unknown[];
  attachments?: AttachmentRecord[];
  flags?: number;
  interaction?: { id: string; type: number; name: string; user: ReturnType<typeof user> } | null;
  webhookId?: string | null;
  applicationId?: string | null;
}) {
  return {
    id: fields.id ?? snowflake(),
    type: fields.interaction ? 20 : 0,
    channel_id: fields.channelId,
    ...(fields.guildId ? { guild_id: fields.guildId } : {}),
    author: fields.author,
    content: fields.content ?? '',
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: fields.attachments ?? [],
    embeds: fields.embeds ?? [],
    components: fields.components ?? [],
    pinned: false,
    flags: fields.flags ?? 0,
    ...(fields.webhookId ? { webhook_id: fields.webhookId } : {}),
    ...(fields.applicationId ? { application_id: fields.applicationId } : {}),
    ...(fields.interaction ? { interaction: fields.interaction } : {}),
  };
}
export type FakeMessage = ReturnType<typeof message>;

/** A role or user option: the id plus what Discord puts in `resolved`. */
export interface RoleRef { role: { id: string; name: string } }
export interface UserRef { user: ReturnType<typeof user> }

/** Option values a test passes for a slash command: strings, numbers, booleans, an attachment, a role or a user. */
export type OptionValue = string | number | boolean | AttachmentRecord | RoleRef | UserRef;

export function roleRecord(id: string, name: string, permissions = '0') {
  return { id, name, color: 0, hoist: false, position: 1, permissions, managed: false, mentionable: true, flags: 0 };
}

export interface CommandOption {
  name: string;
  type: number;
  value?: string | number | boolean;
  focused?: boolean;
  options?: CommandOption[];
}

/** Discord application command option types. */
export const OPTION_TYPE = {
  SUB_COMMAND: 1,
  SUB_COMMAND_GROUP: 2,
  STRING: 3,
  INTEGER: 4,
  BOOLEAN: 5,
  USER: 6,
  CHANNEL: 7,
  ROLE: 8,
  MENTIONABLE: 9,
  NUMBER: 10,
  ATTACHMENT: 11,
} as const;

function isAttachment(value: OptionValue): value is AttachmentRecord {
  return typeof value === 'object' && value !== null && 'filename' in value;
}

/**
 * Turns `{ image: attachment, shape: 'bob' }` into Discord's option list and the `resolved.attachments` map.
 * `focused` names the option an autocomplete interaction is typing into.
 */
export function buildOptions(values: Record<string, OptionValue>, focused?: string) {
  const options: CommandOption[] = [];
  const attachments: Record<string, AttachmentRecord> = {};
  const roles: Record<string, ReturnType<typeof roleRecord>> = {};
  const users: Record<string, ReturnType<typeof user>> = {};
  for (const [name, value] of Object.entries(values)) {
    if (typeof value === 'object' && 'role' in value) {
      roles[value.role.id] = roleRecord(value.role.id, value.role.name);
      options.push({ name, type: OPTION_TYPE.ROLE, value: value.role.id });
    } else if (typeof value === 'object' && 'user' in value) {
      users[value.user.id] = value.user;
      options.push({ name, type: OPTION_TYPE.USER, value: value.user.id });
    } else if (isAttachment(value)) {
      attachments[value.id] = value;
      options.push({ name, type: OPTION_TYPE.ATTACHMENT, value: value.id });
    } else {
      const type = typeof value === 'number' ? (Number.isInteger(value) ? OPTION_TYPE.INTEGER : OPTION_TYPE.NUMBER)
        : typeof value === 'boolean' ? OPTION_TYPE.BOOLEAN : OPTION_TYPE.STRING;
      options.push({ name, type, value, ...(name === focused ? { focused: true } : {}) });
    }
  }
  const resolved = {
    ...(Object.keys(attachments).length ? { attachments } : {}),
    ...(Object.keys(roles).length ? { roles } : {}),
    ...(Object.keys(users).length ? { users } : {}),
  };
  return { options, resolved };
}

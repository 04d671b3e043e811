import { EmbedBuilder, InteractionContextType, MessageFlags, PermissionFlagsBits, SlashCommandBuilder } from 'discord.js';
import type { SlashCommand } from '../context.js';
import { both, localeOf, t } from '../localize.js';
import { assertAdministrator } from '../moderation.js';
import { queueStats } from '../stats.js';
import type { LicenseNotice, LicenseUse } from '../../shared/model-licenses.js';

const data = new SlashCommandBuilder()
  .setName('hair-admin')
  .setNameLocalizations({ ko: '헤어-관리' })
  .setDescription(both('cmd.admin')[0]).setDescriptionLocalizations(both('cmd.admin')[1])
  .setDefaultMemberPermissions(PermissionFlagsBits.Administrator)
  .setContexts(InteractionContextType.Guild)
  .addSubcommand((s) => s.setName('stats').setNameLocalizations({ ko: '통계' }).setDescription(both('cmd.admin.stats')[0]).setDescriptionLocalizations(both('cmd.admin.stats')[1]))
  .addSubcommand((s) => s.setName('pause').setNameLocalizations({ ko: '일시정지' }).setDescription(both('cmd.admin.pause')[0]).setDescriptionLocalizations(both('cmd.admin.pause')[1]))
  .addSubcommand((s) => s.setName('resume').setNameLocalizations({ ko: '재개' }).setDescription(both('cmd.admin.resume')[0]).setDescriptionLocalizations(both('cmd.admin.resume')[1]))
  .addSubcommand((s) => s.setName('quota').setNameLocalizations({ ko: '한도' }).setDescription(both('cmd.admin.quota')[0]).setDescriptionLocalizations(both('cmd.admin.quota')[1])
    .addStringOption((o) => o.setName('scope').setNameLocalizations({ ko: '범위' }).setDescription(both('cmd.opt.scope')[0]).setDescriptionLocalizations(both('cmd.opt.scope')[1]).setRequired(true)
      .addChoices({ name: 'user', name_localizations: { ko: '사용자' }, value: 'user' }, { name: 'guild', name_localizations: { ko: '서버' }, value: 'guild' }))
    .addIntegerOption((o) => o.setName('per_hour').setNameLocalizations({ ko: '시간당' }).setDescription(both('cmd.opt.perHour')[0]).setDescriptionLocalizations(both('cmd.opt.perHour')[1]).setRequired(true).setMinValue(0).setMaxValue(100_000)))
  .addSubcommand((s) => s.setName('block').setNameLocalizations({ ko: '차단' }).setDescription(both('cmd.admin.block')[0]).setDescriptionLocalizations(both('cmd.admin.block')[1])
    .addUserOption((o) => o.setName('user').setNameLocalizations({ ko: '회원' }).setDescription(both('cmd.opt.user')[0]).setDescriptionLocalizations(both('cmd.opt.user')[1]).setRequired(true)))
  .addSubcommand((s) => s.setName('unblock').setNameLocalizations({ ko: '차단해제' }).setDescription(both('cmd.admin.unblock')[0]).setDescriptionLocalizations(both('cmd.admin.unblock')[1])
    .addUserOption((o) => o.setName('user').setNameLocalizations({ ko: '회원' }).setDescription(both('cmd.opt.user')[0]).setDescriptionLocalizations(both('cmd.opt.user')[1]).setRequired(true)));

/** The restricted parts any online worker runs, once each (a part's graphs merged across workers). */
function restrictedLicenses(workers: readonly { licenses: readonly LicenseNotice[] }[]): (LicenseNotice & { use: Exclude<LicenseUse, 'open'> })[] {
  const byPart = new Map<string, LicenseNotice & { use: Exclude<LicenseUse, 'open'> }>();
  for (const notice of workers.flatMap((w) => w.licenses)) {
    if (notice.use === 'open') continue;
    const seen = byPart.get(notice.part);
    if (seen) seen.graphs = [...new Set([...seen.graphs, ...notice.graphs])];
    else byPart.set(notice.part, { ...notice, use: notice.use, graphs: [...notice.graphs] });
  }
  return [...byPart.values()];
}

const ms = (v: number | undefined) => (v === undefined ? '—' : `${(v / 1000).toFixed(2)} s`);

export const hairAdmin: SlashCommand = {
  kind: 'slash',
  data,
  async execute(interaction, ctx) {
    assertAdministrator(interaction);
    const locale = localeOf(interaction);
    const guildId = interaction.guildId!;
    const sub = interaction.options.getSubcommand();
    const say = async (content: string, extra: Record<string, unknown> = {}) =>
      void (await interaction.reply({ content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] }, ...extra }));
    if (sub === 'stats') {
      const s = await queueStats(ctx);
      const c = s.counts;
      const failures = Object.entries(s.failuresByCode).map(([code, n]) => `${code}: ${n}`).join('\n') || '—';
      const workers = s.workers.map((w) => `\`${w.id}\` ${w.host} · ${w.executionProvider}${w.gpu ? ` · ${w.gpu}` : ''} · ${w.precision} · ${t(locale, 'stats.jobsDone', { count: w.jobsDone })}`).join('\n') || '—';
      const embed = new EmbedBuilder()
        .setTitle(t(locale, s.paused ? 'stats.titlePaused' : 'stats.title'))
        .addFields(
          { name: t(locale, 'stats.queue'), value: t(locale, 'stats.counts', { waiting: (c.waiting ?? 0) + (c.prioritized ?? 0), active: c.active ?? 0, delayed: c.delayed ?? 0, failed: c.failed ?? 0 }) },
          { name: t(locale, 'stats.lastHour'), value: t(locale, 'stats.throughput', { completed: s.completedLastHour, perMinute: s.perMinute }) },
          { name: t(locale, 'stats.latency'), value: `p50 ${ms(s.totalMs.p50)} · p95 ${ms(s.totalMs.p95)}`, inline: true },
          { name: t(locale, 'stats.gpu'), value: `p50 ${ms(s.gpuMs.p50)} · p95 ${ms(s.gpuMs.p95)}`, inline: true },
          { name: t(locale, 'stats.failures'), value: failures.slice(0, 1024) },
          { name: t(locale, 'stats.workers', { count: s.workers.length }), value: workers.slice(0, 1024) },
        );
      const notices = restrictedLicenses(s.workers);
      if (notices.length > 0) {
        const lines = notices.map((n) => t(locale, `stats.license.${n.use}`, { part: n.origin, graphs: n.graphs.join(', ') }));
        embed.addFields({ name: t(locale, 'stats.licenses'), value: [...lines, t(locale, 'stats.licensesHint')].join('\n').slice(0, 1024) });
      }
      return await say('', { embeds: [embed] });
    }
    if (sub === 'pause') {
      await ctx.enqueuer.pause();
      return await say(t(locale, 'admin.paused'));
    }
    if (sub === 'resume') {
      await ctx.enqueuer.resume();
      return await say(t(locale, 'admin.resumed'));
    }
    if (sub === 'quota') {
      const scope = interaction.options.getString('scope', true) as 'user' | 'guild';
      const perHour = interaction.options.getInteger('per_hour', true);
      await ctx.limits.setQuota(guildId, scope, perHour);
      return await say(t(locale, `admin.quota.${scope}`, { perHour }));
    }
    if (sub === 'block' || sub === 'unblock') {
      const user = interaction.options.getUser('user', true);
      await ctx.limits.setBlocked(guildId, user.id, sub === 'block');
      return await say(t(locale, sub === 'block' ? 'admin.blocked' : 'admin.unblocked', { user: `<@${user.id}>` }));
    }
  },
};

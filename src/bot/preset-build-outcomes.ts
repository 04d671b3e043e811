import { Job } from 'bullmq';
import { Routes, type REST } from 'discord.js';
import { parseJobFailure, presetBuildResultSchema, type PresetBuildJobData } from '../shared/index.js';
import type { BotContext } from './context.js';
import { errorText, t } from './localize.js';
import type { PresetBuildReply } from './preset-build-replies.js';
import { returnValueOf } from './return-value.js';

/**
 * What the bot does when a preset build ends: mark the preset ready (with its thumbnail) or failed, and tell the
 * moderator who added it through their interaction (its reply target is used once, then gone).
 */
export function createPresetBuildOutcomes(deps: { ctx: BotContext; rest: REST }) {
  const { ctx, rest } = deps;

  async function tell(jobId: string, content: (reply: PresetBuildReply) => string): Promise<void> {
    const reply = await ctx.presetReplies.take(jobId);
    if (reply) await rest.patch(Routes.webhookMessage(reply.applicationId, reply.token, '@original'), { body: { content: content(reply) }, auth: false });
  }

  return {
    async completed(jobId: string, returnvalue: unknown): Promise<void> {
      const result = presetBuildResultSchema.safeParse(returnValueOf(returnvalue));
      if (!result.success) return;
      await ctx.presets.markBuilt(result.data.presetId, result.data.thumbnailBase64 || undefined);
      await tell(jobId, (reply) => t(reply.locale, 'presets.ready', { name: reply.name }));
    },

    async failed(jobId: string, failedReason: string): Promise<void> {
      const job = await Job.fromId<PresetBuildJobData>(ctx.enqueuer.presetBuildQueue, jobId);
      const failure = parseJobFailure(failedReason);
      if (job) await ctx.presets.markFailed(job.data.presetId, failure.code);
      await tell(jobId, (reply) => errorText(reply.locale, failure.code, { jobId, ...failure.params }));
    },

    /**
     * Preset builds that ended while no bot was listening: apply their outcome now (jobs are kept for a day on
     * success and a week on failure), so a restart never leaves a preset "building" forever.
     */
    async reconcile(): Promise<number> {
      let applied = 0;
      const jobs = await ctx.enqueuer.presetBuildQueue.getJobs(['completed', 'failed'], 0, 500);
      for (const job of jobs) {
        const data = job.data as PresetBuildJobData;
        const entry = (await ctx.presets.list(data.guildId, undefined, { includeUnready: true })).find((p) => p.id === data.presetId);
        if (entry?.status !== 'building') continue;
        const result = presetBuildResultSchema.safeParse(returnValueOf(job.returnvalue));
        if (job.finishedOn && result.success && !job.failedReason) await ctx.presets.markBuilt(data.presetId, result.data.thumbnailBase64 || undefined);
        else if (job.failedReason) await ctx.presets.markFailed(data.presetId, parseJobFailure(job.failedReason).code);
        else continue;
        applied += 1;
      }
      return applied;
    },
  };
}

/**
 * Redis keys the bot alone reads and writes (limits, the guild preset catalog, moderation settings, stats,
 * context-menu drafts). Queue and worker keys are in src/shared/job.ts. Everything sits under QUEUE_PREFIX.
 */
export function botKeys(prefix: string) {
  const p = `${prefix}:bot`;
  return Object.freeze({
    /** Sorted set of a user's unfinished job ids (score: enqueued at). Finished ones are pruned on each check. */
    userActive: (userId: string) => `${p}:active:${userId}`,
    /** Sorted sets of request timestamps for the sliding hourly quotas. */
    userHour: (userId: string) => `${p}:hour:user:${userId}`,
    guildHour: (guildId: string) => `${p}:hour:guild:${guildId}`,
    /** Hash `user` / `guild` → hourly quota overrides set by admins. */
    quotas: (guildId: string) => `${p}:quotas:${guildId}`,
    /** Set of blocked user ids. */
    blocked: (guildId: string) => `${p}:blocked:${guildId}`,
    /** String: the optional moderator role id. */
    moderatorRole: (guildId: string) => `${p}:mod-role:${guildId}`,
    /** String '1' when the guild turned built-in presets off. */
    builtinsOff: (guildId: string) => `${p}:builtins-off:${guildId}`,
    /** Hash slug → GuildPreset JSON (who added it, when, build status). */
    presets: (guildId: string) => `${p}:presets:${guildId}`,
    /** Hash slug → thumbnail JPEG (base64) from the preset build. */
    presetThumbs: (guildId: string) => `${p}:preset-thumbs:${guildId}`,
    /** Where a preset build reports back: the moderator's interaction token (15 min). */
    presetReply: (jobId: string) => `${p}:preset-reply:${jobId}`,
    /** String: which bot replica edits a job's reply for a stage (SET NX), so N replicas make one edit. */
    progressEdit: (jobId: string, stage: string) => `${p}:progress-edit:${jobId}:${stage}`,
    /** String: an HTTP interaction id some replica took (SET NX), kept as long as its token lives. */
    interactionSeen: (interactionId: string) => `${p}:interaction-seen:${interactionId}`,
    /** Hash of a context-menu draft (target attachment + picks), 15 min. */
    draft: (draftId: string) => `${p}:draft:${draftId}`,
    /** Sorted sets for /hair-admin stats: `jobId|totalMs|gpuMs` and `jobId|code`, scored by finish time. */
    statsDone: `${p}:stats:done`,
    statsFailed: `${p}:stats:failed`,
  });
}
export type BotKeys = ReturnType<typeof botKeys>;

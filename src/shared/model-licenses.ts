/**
 * Upstream licenses of the HairFastGAN parts, in one vocabulary the CLI, the worker and the bot share.
 *
 * `use` is what an operator must know before serving the graphs to a community: `open` (MIT/BSD/Apache: fine),
 * `non-commercial`, `evaluation-only` (no service to third parties), `no-license` (the upstream code carries no
 * license at all, so no right to use it was granted). The table of parts is `UPSTREAM_PARTS`
 * (src/model-build/official-files.ts); the manifest records, per graph, the parts it was exported from.
 */
export const LICENSE_USES = ['open', 'non-commercial', 'evaluation-only', 'no-license'] as const;
export type LicenseUse = (typeof LICENSE_USES)[number];

/** A part whose terms limit who may be served: anything but `open`. */
export function isRestrictedUse(use: LicenseUse): boolean {
  return use !== 'open';
}

/** The strictest of several uses (evaluation-only > no-license > non-commercial > open). */
export function strictestUse(uses: Iterable<LicenseUse>): LicenseUse {
  const rank: Record<LicenseUse, number> = { open: 0, 'non-commercial': 1, 'no-license': 2, 'evaluation-only': 3 };
  let worst: LicenseUse = 'open';
  for (const use of uses) if (rank[use] > rank[worst]) worst = use;
  return worst;
}

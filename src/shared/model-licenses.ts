import { z } from 'zod';

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

/** How strict a use is: evaluation-only > no-license > non-commercial > open. */
const STRICTNESS: Record<LicenseUse, number> = { open: 0, 'non-commercial': 1, 'no-license': 2, 'evaluation-only': 3 };

/** The strictest of several uses. */
export function strictestUse(uses: Iterable<LicenseUse>): LicenseUse {
  let worst: LicenseUse = 'open';
  for (const use of uses) if (STRICTNESS[use] > STRICTNESS[worst]) worst = use;
  return worst;
}

/** One upstream part a graph was exported from, as the manifest records it (`licenses` of a model entry). */
export const upstreamLicenseSchema = z.object({
  /** Stable id of the part (`sean`, `feature-style-encoder`, …; `hairstyler` for the contract graphs). */
  part: z.string().min(1),
  /** Who made it, in words (shown to operators). */
  origin: z.string().min(1),
  code: z.string().min(1),
  weights: z.string().min(1),
  use: z.enum(LICENSE_USES),
});
export type UpstreamLicense = z.infer<typeof upstreamLicenseSchema>;

/** A restricted part installed, and the graphs that carry it: what operators are told. */
export const licenseNoticeSchema = z.object({
  part: z.string(),
  origin: z.string(),
  use: z.enum(LICENSE_USES),
  graphs: z.array(z.string()),
});
export type LicenseNotice = z.infer<typeof licenseNoticeSchema>;

/**
 * The restricted parts among installed graphs (`[graph, its manifest licenses]`), strictest first, one notice per
 * part with the graphs that carry it. Open parts are left out: an empty list means nothing to warn about.
 */
export function licenseNotices(graphs: Iterable<readonly [string, readonly UpstreamLicense[] | undefined]>): LicenseNotice[] {
  const byPart = new Map<string, LicenseNotice>();
  for (const [graph, licenses] of graphs) {
    for (const license of licenses ?? []) {
      if (!isRestrictedUse(license.use)) continue;
      const notice = byPart.get(license.part) ?? { part: license.part, origin: license.origin, use: license.use, graphs: [] };
      if (!notice.graphs.includes(graph)) notice.graphs.push(graph);
      byPart.set(license.part, notice);
    }
  }
  return [...byPart.values()].sort((a, b) => STRICTNESS[b.use] - STRICTNESS[a.use] || a.part.localeCompare(b.part));
}

const USE_WORDS: Record<LicenseUse, string> = {
  open: 'open license',
  'non-commercial': 'NON-COMMERCIAL use only',
  'evaluation-only': 'EVALUATION ONLY (no service to third parties)',
  'no-license': 'NO LICENSE granted upstream',
};

/** English lines for the CLI and the logs: one per notice (`evaluation-only: … in embed`); none when all is open. */
export function licenseNoticeLines(notices: readonly LicenseNotice[]): string[] {
  return notices.map((n) => `${USE_WORDS[n.use]}: ${n.origin} (${n.part}) in ${n.graphs.join(', ')}`);
}

/** One sentence for a ready line: '' when every installed part is openly licensed. */
export function licenseNoticeSummary(notices: readonly LicenseNotice[]): string {
  if (notices.length === 0) return '';
  const uses = [...new Set(notices.map((n) => n.use))].map((u) => USE_WORDS[u]);
  return `restricted licenses installed — ${uses.join('; ')}: ${notices.map((n) => n.part).join(', ')} (see \`hairstyler models list\`, README "Licenses")`;
}

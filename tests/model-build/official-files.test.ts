import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CLIP_VIT_B32, exportFiles, graphParts, HAIRFAST_HUB, HAIRFAST_SOURCE, hubSizeRange, OFFICIAL_FILES, officialFileUrl,
  sourceTarballUrl, UPSTREAM_PARTS, WEIGHTLESS_GRAPHS,
} from '../../src/model-build/official-files.js';
import { graphContract } from '../../src/pipeline/hairfast/contract.js';
import { GRAPH_IO, type ContractGraph } from '../../src/pipeline/hairfast/graphs.contract.js';

const MIRROR = '/work/.mirror/AIRI-Institute+HairFastGAN/repo';

describe('the official files table', () => {
  it('lists every checkpoint the exporter opens, under the same relative path', () => {
    const exporter = readFileSync('tools/hairfast-export/hairfast_export/official.py', 'utf8');
    // Every pretrained_models path the exporter names (rel = '…', self.ck.get('…'), class constants).
    const opened = [...new Set([...exporter.matchAll(/'([A-Za-z0-9_-]+(?:\/[A-Za-z0-9_.-]+)+\.(?:pth|pt|npz))'/g)].map((m) => m[1]!))];
    expect(opened.length).toBeGreaterThan(10);
    const hubPaths = new Set(exportFiles().filter((f) => f.location === 'hub').map((f) => f.path));
    expect(opened.filter((p) => !hubPaths.has(p))).toEqual([]);
  });

  it('gives every contract graph its weight files, or marks it weightless', () => {
    const graphs = Object.keys(GRAPH_IO) as ContractGraph[];
    const fed = new Set(OFFICIAL_FILES.flatMap((f) => f.graphs));
    const composites = graphContract().composites;
    expect(graphs.filter((g) => !fed.has(g) && !WEIGHTLESS_GRAPHS.includes(g) && !(g in composites))).toEqual([]);
    expect(graphParts('swap')).toEqual(expect.arrayContaining(['sean', 'stylegan2-ffhq']));
    expect(graphParts('embed')).toEqual(expect.arrayContaining(['feature-style-encoder', 'e4e', 'stylegan2-ffhq']));
    expect(graphParts('align_f')).toEqual(['hairfast']);
    expect(graphParts('sean_decode')).toContain('sean');
    expect(UPSTREAM_PARTS['feature-style-encoder'].use).toBe('evaluation-only');
  });

  it('turns the Hub listing sizes into byte ranges one unit of the last digit wide', () => {
    expect(hubSizeRange('133 MB')).toEqual({ min: 132_000_000, max: 134_000_000 });
    expect(hubSizeRange('53.3 MB')).toEqual({ min: 53_200_000, max: 53_400_000 });
    expect(hubSizeRange('1.07 GB')).toEqual({ min: 1_060_000_000, max: 1_080_000_000 });
    expect(hubSizeRange('2.8 kB')).toEqual({ min: 2_700, max: 2_900 });
    expect(() => hubSizeRange('big')).toThrow(/Expected a Hub size/);
    for (const f of OFFICIAL_FILES.filter((file) => file.location === 'hub')) expect(hubSizeRange(f.hubSize!).min).toBeGreaterThan(0);
  });

  it('builds the real URLs, and the same paths on another base (a local test server)', () => {
    const ffhq = OFFICIAL_FILES.find((f) => f.path === 'StyleGAN/ffhq.pt')!;
    expect(officialFileUrl(ffhq)).toBe(`https://huggingface.co/AIRI-Institute/HairFastGAN/resolve/${HAIRFAST_HUB.revision}/pretrained_models/StyleGAN/ffhq.pt`);
    const local = { hub: 'http://127.0.0.1:9', clip: 'http://127.0.0.1:9', github: 'http://127.0.0.1:9' };
    expect(officialFileUrl(ffhq, local)).toBe(`http://127.0.0.1:9/AIRI-Institute/HairFastGAN/resolve/${HAIRFAST_HUB.revision}/pretrained_models/StyleGAN/ffhq.pt`);
    const clip = OFFICIAL_FILES.find((f) => f.location === 'clip')!;
    expect(officialFileUrl(clip)).toBe(`https://openaipublic.azureedge.net${CLIP_VIT_B32.path}`);
    expect(CLIP_VIT_B32.path.split('/').at(-2)).toBe(clip.sha256); // the clip package checks exactly this
    expect(sourceTarballUrl(local)).toBe(`http://127.0.0.1:9/AIRI-Institute/HairFastGAN/archive/${HAIRFAST_SOURCE.commit}.tar.gz`);
  });

  it.skipIf(!existsSync(MIRROR))('matches the official code: every hub path is opened by it, the source tree hash is the commit\'s', () => {
    const git = (...args: string[]) => execFileSync('git', [`--git-dir=${MIRROR}`, ...args], { encoding: 'utf8' });
    expect(git('rev-parse', `${HAIRFAST_SOURCE.commit}^{tree}`).trim()).toBe(HAIRFAST_SOURCE.tree);
    const code = git('grep', '-h', '-e', 'pretrained_models', '-e', '_PCA', '-e', 'which_epoch', HAIRFAST_SOURCE.commit, '--', '*.py');
    for (const f of OFFICIAL_FILES.filter((file) => file.location === 'hub')) {
      const name = f.path.split('/').at(-1)!;
      const mentioned = code.includes(f.path) || code.includes(name) || (name === 'ffhq_PCA.npz' && code.includes("'_PCA.npz'"))
        || (name === 'latest_net_G.pth' && code.includes('sean_checkpoints'));
      expect(mentioned, f.path).toBe(true);
    }
  });
});

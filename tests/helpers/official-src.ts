import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The official HairFastGAN code for tests that run it: $HAIRFAST_SRC (a checkout), else the workplace's bare mirror
 * unpacked with `git archive` into a temporary directory. Never copied into the repository. undefined = neither.
 */
export const OFFICIAL_MIRROR = '/work/.mirror/AIRI-Institute+HairFastGAN/repo';

export function officialSrc(): string | undefined {
  if (process.env['HAIRFAST_SRC']) return process.env['HAIRFAST_SRC'];
  if (!existsSync(OFFICIAL_MIRROR)) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'hairfast-src-'));
  const archive = execFileSync('git', [`--git-dir=${OFFICIAL_MIRROR}`, 'archive', 'HEAD'], { maxBuffer: 1 << 30 });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  return dir;
}

/** Debian's Python with torch 1.13 + onnx (what the exporter's tests use). */
export const PYTHON = '/usr/bin/python3';

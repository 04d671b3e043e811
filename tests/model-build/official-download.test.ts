import { execFileSync } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downloadOfficial, type DownloadProgress } from '../../src/model-build/official-download/download-official.js';
import { partialPath } from '../../src/model-build/official-download/fetch-resumable.js';
import { gitTreeHash } from '../../src/model-build/official-download/git-tree-hash.js';
import { CLIP_VIT_B32, HAIRFAST_HUB, HAIRFAST_SOURCE, type OfficialFile } from '../../src/model-build/official-files.js';
import { HairError } from '../../src/shared/errors.js';
import { cdnPathOf, startFakeModelHosts, type FakeModelHosts } from '../helpers/fake-model-hosts.js';
import { runCli } from '../helpers/run-cli.js';

const MIRROR = '/work/.mirror/AIRI-Institute+HairFastGAN/repo';
const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, encoding: 'utf8' }).trim();
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Small stand-ins for two Hub files, with sizes the table's rounding accepts. */
const FFHQ = randomBytes(40_000);
const ROTATE = randomBytes(1_500);
const FILES: OfficialFile[] = [
  { location: 'hub', path: 'StyleGAN/ffhq.pt', hubSize: '40.0 kB', role: 'export', graphs: ['e4e'], readBy: 'test', parts: ['stylegan2-ffhq'] },
  { location: 'hub', path: 'Rotate/rotate_best.pth', hubSize: '1.50 kB', role: 'export', graphs: ['rotate'], readBy: 'test', parts: ['hairfast'] },
];

/** A tiny repository and GitHub's tarball of it (`git archive`, as GitHub builds them): an exec bit, a symlink, nesting. */
function tinySource(root: string): { commit: string; tree: string; tarball: Buffer } {
  const repo = join(root, 'repo');
  mkdirSync(join(repo, 'models', 'stylegan2'), { recursive: true });
  writeFileSync(join(repo, 'hair_swap.py'), 'print("hair")\n');
  writeFileSync(join(repo, 'models', 'stylegan2', 'model.py'), 'class Generator: pass\n');
  writeFileSync(join(repo, 'run.sh'), '#!/bin/sh\n');
  chmodSync(join(repo, 'run.sh'), 0o755);
  symlinkSync('hair_swap.py', join(repo, 'main.py'));
  git(repo, 'init', '-q');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'x');
  const commit = git(repo, 'rev-parse', 'HEAD');
  const tarball = execFileSync('git', ['archive', '--format=tar.gz', `--prefix=HairFastGAN-${commit}/`, 'HEAD'], { cwd: repo });
  return { commit, tree: git(repo, 'rev-parse', 'HEAD^{tree}'), tarball };
}

describe('models download (against local hosts with the real URL layout)', () => {
  let hosts: FakeModelHosts;
  let work: string;
  beforeEach(async () => {
    hosts = await startFakeModelHosts();
    work = mkdtempSync(join(tmpdir(), 'hairstyler-download-'));
  });
  afterEach(async () => {
    await hosts.close();
    rmSync(work, { recursive: true, force: true });
  });
  const bases = () => ({ hub: hosts.url, clip: hosts.url, github: hosts.url });

  it('fetches the checkpoints through the Hub redirect and the source tarball, checked, with progress; a second run fetches nothing', async () => {
    hosts.addHubFile('StyleGAN/ffhq.pt', FFHQ);
    hosts.addHubFile('Rotate/rotate_best.pth', ROTATE);
    const source = tinySource(work);
    hosts.addTarball(source.commit, source.tarball);
    const dest = join(work, 'dest');
    const events: DownloadProgress[] = [];
    const result = await downloadOfficial({ dest, bases: bases(), files: FILES, source, onProgress: (p) => events.push(p), retryDelayMs: 0 });

    expect(readFileSync(join(dest, 'pretrained_models', 'StyleGAN', 'ffhq.pt')).equals(FFHQ)).toBe(true);
    expect(readFileSync(join(dest, 'pretrained_models', 'Rotate', 'rotate_best.pth')).equals(ROTATE)).toBe(true);
    expect(result.checkpoints).toBe(join(dest, 'pretrained_models'));
    expect(result.src).toBe(join(dest, `HairFastGAN-${source.commit}`));
    expect(readFileSync(join(result.src, 'models', 'stylegan2', 'model.py'), 'utf8')).toContain('Generator');
    expect(gitTreeHash(result.src)).toBe(source.tree);
    expect(result.files.map((f) => [f.verifiedBy, f.skipped])).toEqual([['server', false], ['server', false], [undefined, false]]);
    expect(result.files[0]!.sha256).toBe(sha256(FFHQ));
    expect(events.filter((e) => e.done).map((e) => e.file)).toEqual(['pretrained_models/StyleGAN/ffhq.pt', 'pretrained_models/Rotate/rotate_best.pth', `HairFastGAN-${source.commit}.tar.gz`]);
    expect(hosts.requests[0]).toEqual({ path: `/${HAIRFAST_HUB.repo}/resolve/${HAIRFAST_HUB.revision}/pretrained_models/StyleGAN/ffhq.pt`, range: undefined, status: 302 });
    expect(hosts.requests[1]).toEqual({ path: cdnPathOf(FFHQ), range: undefined, status: 200 });
    expect(existsSync(partialPath(join(dest, 'pretrained_models', 'StyleGAN', 'ffhq.pt')))).toBe(false);

    hosts.requests.length = 0;
    const again = await downloadOfficial({ dest, bases: bases(), files: FILES, source, retryDelayMs: 0 });
    expect(again.files.map((f) => f.skipped)).toEqual([true, true, true]);
    // complete files are only asked for past their end (416), never downloaded again
    expect(hosts.requests.filter((r) => r.path.startsWith('/cdn-lfs/')).map((r) => r.range)).toEqual([`bytes=${FFHQ.length}-`, `bytes=${ROTATE.length}-`]);
  });

  it('resumes after a cut connection with a Range request, in the same run and in the next one', async () => {
    hosts.addHubFile('StyleGAN/ffhq.pt', FFHQ);
    hosts.cutOnce(cdnPathOf(FFHQ), 15_000);
    const dest = join(work, 'dest');
    const [ffhq] = FILES;
    const result = await downloadOfficial({ dest, bases: bases(), files: [ffhq!], parts: ['checkpoints'], retryDelayMs: 0 });
    expect(result.files[0]!.sha256).toBe(sha256(FFHQ));
    expect(hosts.requests.filter((r) => r.path === cdnPathOf(FFHQ)).map((r) => r.range)).toEqual([undefined, 'bytes=15000-']);

    // one attempt only: the run fails naming what to do, keeps the part, and the next run continues from it
    rmSync(join(dest, 'pretrained_models'), { recursive: true });
    hosts.requests.length = 0;
    hosts.cutOnce(cdnPathOf(FFHQ), 10_000);
    const failed = await downloadOfficial({ dest, bases: bases(), files: [ffhq!], parts: ['checkpoints'], attempts: 1 }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(HairError);
    expect((failed as HairError).code).toBe('MODEL_DOWNLOAD_FAILED');
    const part = partialPath(join(dest, 'pretrained_models', 'StyleGAN', 'ffhq.pt'));
    expect((failed as HairError).params).toMatchObject({ file: 'pretrained_models/StyleGAN/ffhq.pt', partial: part, attempts: 1 });
    expect(readFileSync(part).length).toBe(10_000);
    const resumed = await downloadOfficial({ dest, bases: bases(), files: [ffhq!], parts: ['checkpoints'] });
    expect(resumed.files[0]!.sha256).toBe(sha256(FFHQ));
    expect(hosts.requests.filter((r) => r.path === cdnPathOf(FFHQ)).map((r) => r.range)).toEqual([undefined, 'bytes=10000-']);
  });

  it('a sha256 mismatch (CLIP, checked against the hash in its URL) exits 2 with error[MODEL_DOWNLOAD_MISMATCH] and the fix, leaving nothing behind', async () => {
    hosts.setClip(randomBytes(2_000));
    const dest = join(work, 'dest');
    const r = await runCli('models', 'download', '--dest', dest, '--only', 'clip', '--clip-url', hosts.url);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error[MODEL_DOWNLOAD_MISMATCH]: clip/ViT-B-32.pt from ${hosts.url}${CLIP_VIT_B32.path} has sha256 `);
    expect(r.stderr).toContain(`expected ${CLIP_VIT_B32.sha256}. The download was deleted: run the same command again`);
    expect(existsSync(join(dest, 'clip', 'ViT-B-32.pt'))).toBe(false);
    expect(existsSync(partialPath(join(dest, 'clip', 'ViT-B-32.pt')))).toBe(false);
  });

  it('a 404 names the file and the URL it asked (the real table, the first Hub file)', async () => {
    const r = await runCli('models', 'download', '--dest', join(work, 'dest'), '--only', 'checkpoints', '--hub-url', hosts.url);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error[MODEL_DOWNLOAD_NOT_FOUND]: pretrained_models/StyleGAN/ffhq.pt: ${hosts.url}/${HAIRFAST_HUB.repo}/resolve/${HAIRFAST_HUB.revision}/pretrained_models/StyleGAN/ffhq.pt answered 404 Not Found.`);
  });

  it('refuses a source tarball whose files are not the pinned commit\'s (git tree hash)', async () => {
    const source = tinySource(work);
    hosts.addTarball(source.commit, source.tarball);
    const wrong = { commit: source.commit, tree: '0'.repeat(40) };
    const failed = await downloadOfficial({ dest: join(work, 'dest'), bases: bases(), parts: ['source'], source: wrong }).catch((e: unknown) => e);
    expect((failed as HairError).code).toBe('MODEL_DOWNLOAD_MISMATCH');
    expect((failed as HairError).params).toMatchObject({ check: 'git tree hash', actual: source.tree, expected: wrong.tree });
    expect(existsSync(join(work, 'dest', `HairFastGAN-${source.commit}`))).toBe(false);
  });

  it.skipIf(!existsSync(MIRROR))('verifies the real pinned source: GitHub\'s tarball of the commit unpacks to its tree', async () => {
    const tarball = execFileSync('git', [`--git-dir=${MIRROR}`, 'archive', '--format=tar.gz', `--prefix=HairFastGAN-${HAIRFAST_SOURCE.commit}/`, HAIRFAST_SOURCE.commit], { maxBuffer: 64 * 2 ** 20 });
    hosts.addTarball(HAIRFAST_SOURCE.commit, tarball);
    const result = await downloadOfficial({ dest: join(work, 'dest'), bases: bases(), parts: ['source'] });
    expect(existsSync(join(result.src, 'models', 'Blending.py'))).toBe(true);
  });
});

describe('gitTreeHash', () => {
  it('equals git write-tree: file modes, a symlink, nested folders, git\'s name order', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tree-hash-'));
    try {
      mkdirSync(join(dir, 'a', 'b'), { recursive: true });
      writeFileSync(join(dir, 'a', 'b', 'c.txt'), 'c');
      writeFileSync(join(dir, 'a.txt'), 'a'); // 'a.txt' < 'a/' in git's order, though 'a' < 'a.txt'
      writeFileSync(join(dir, 'x.sh'), '#!/bin/sh');
      chmodSync(join(dir, 'x.sh'), 0o755);
      symlinkSync('a.txt', join(dir, 'link'));
      mkdirSync(join(dir, 'empty')); // not in git, not in the hash
      git(dir, 'init', '-q');
      git(dir, 'add', '-A');
      const expected = git(dir, 'write-tree');
      rmSync(join(dir, '.git'), { recursive: true });
      expect(gitTreeHash(dir)).toBe(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

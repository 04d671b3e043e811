import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HAIRFAST_HUB } from '../../src/model-build/official-files.js';
import { startFakeModelHosts, type FakeModelHosts } from '../helpers/fake-model-hosts.js';
import { runCli } from '../helpers/run-cli.js';

/** `models import --download DIR`: the download runs first, and a failed one stops the import before anything changes. */
describe('hairstyler models import --download', () => {
  let hosts: FakeModelHosts;
  let work: string;
  beforeEach(async () => {
    hosts = await startFakeModelHosts();
    work = mkdtempSync(join(tmpdir(), 'hairstyler-import-dl-'));
  });
  afterEach(async () => {
    await hosts.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('fetches from the hub first: a missing file stops it with the download error, and nothing is imported', async () => {
    const modelsDir = join(work, 'models');
    const r = await runCli('models', 'import', '--download', join(work, 'dl'), '--hub-url', hosts.url, '--clip-url', hosts.url, '--github-url', hosts.url, '--models-dir', modelsDir);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`models import: downloading the official files into ${join(work, 'dl')}`);
    expect(r.stderr).toContain(`error[MODEL_DOWNLOAD_NOT_FOUND]: pretrained_models/StyleGAN/ffhq.pt: ${hosts.url}/${HAIRFAST_HUB.repo}/resolve/${HAIRFAST_HUB.revision}/pretrained_models/StyleGAN/ffhq.pt answered 404`);
    expect(hosts.requests[0]!.path).toContain('/resolve/');
  });

  it('without --download it needs --src and --checkpoints, and says so', async () => {
    const r = await runCli('models', 'import', '--models-dir', join(work, 'models'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Expected --src and --checkpoints (or --download DIR to fetch both)');
  });
});

import { describe, expect, it } from 'vitest';
import { progressLine } from '../../src/cli/models-download.js';

describe('progress lines', () => {
  it('show percent, bytes, speed and ETA while fetching, and what happened at the end', () => {
    const base = { file: 'pretrained_models/StyleGAN/ffhq.pt', resumedFrom: 0 };
    expect(progressLine({ ...base, received: 60_100_000, total: 133_000_000, bytesPerSecond: 12_300_000, etaSeconds: 65.4, done: false }))
      .toBe('pretrained_models/StyleGAN/ffhq.pt:  45%  60.1 MB of 133.0 MB  12.3 MB/s  ETA 1:05');
    expect(progressLine({ ...base, received: 1_000, total: undefined, bytesPerSecond: 0, etaSeconds: undefined, done: false }))
      .toBe('pretrained_models/StyleGAN/ffhq.pt:    ?  0.0 MB  0.0 MB/s');
    expect(progressLine({ ...base, received: 133_000_000, total: 133_000_000, bytesPerSecond: 1, etaSeconds: 0, done: true })).toBe('pretrained_models/StyleGAN/ffhq.pt: done (133.0 MB)');
    expect(progressLine({ ...base, resumedFrom: 5, received: 5, total: 5, bytesPerSecond: 0, etaSeconds: 0, done: true })).toBe('pretrained_models/StyleGAN/ffhq.pt: already complete (0.0 MB)');
  });
});

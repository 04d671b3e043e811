import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('bot boundaries', () => {
  it('src/bot never imports onnxruntime, the pipeline or the worker', () => {
    const offenders = sources('src/bot').filter((file) => /from '(onnxruntime-node|[./]+\/(pipeline|worker)\/[^']*)'/.test(readFileSync(file, 'utf8')));
    expect(offenders).toEqual([]);
  });
});

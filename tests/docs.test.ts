import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const DOCS = ['README.md', ...readdirSync('docs').filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
const scripts = Object.keys((JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts);

/** `npm run …` commands as the docs give them (code spans may wrap a line; `[…]` marks an optional part). */
function npmRuns(): Array<{ file: string; command: string }> {
  return DOCS.flatMap((file) => {
    const text = readFileSync(file, 'utf8').replace(/\n(?=[^\n`]*`)/g, ' ');
    return [...text.matchAll(/npm run ([a-z][\w:.*-]*)([^`\n#|)]*)/g)].map((m) => ({ file, command: `npm run ${m[1]}${m[2]}`.trim() }));
  });
}

describe('the commands the docs tell operators to run', () => {
  it('name scripts that exist', () => {
    const exists = (name: string) => (name.endsWith('*') ? scripts.some((s) => s.startsWith(name.slice(0, -1))) : scripts.includes(name));
    const unknown = npmRuns().filter(({ command }) => !exists(command.split(/\s+/)[2]!));
    expect(unknown).toEqual([]);
  });

  it('pass flags after `--` (npm eats a flag given before it, e.g. `npm run commands:deploy --guild ID`)', () => {
    const eaten = npmRuns().filter(({ command }) => {
      const rest = command.split(/\s+/).slice(3).map((w) => w.replace(/^\[/, ''));
      const separator = rest.indexOf('--');
      const firstFlag = rest.findIndex((w) => /^--?[a-z]/i.test(w));
      return firstFlag !== -1 && (separator === -1 || separator > firstFlag);
    });
    expect(eaten).toEqual([]);
  });
});

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The layer rules of docs/architecture.md. Every module specifier counts: `import … from`, `export … from`,
 * `import '…'`, `import type`, dynamic `import()` and `require()` (TypeScript's own pre-processor reads them).
 */
interface Import {
  file: string;
  specifier: string;
  /** A project folder such as `src/pipeline`, or the npm package name (`@scope/name`, `node:*` for built-ins). */
  target: string;
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === '__pycache__') return [];
    return statSync(path).isDirectory() ? sources(path) : /\.(ts|mts|mjs|js)$/.test(path) ? [path] : [];
  });
}

/** `src/<area>` for a file under src/ (`src/main.ts` for the root entry), `tools/<tool>` under tools/. */
function areaOf(path: string): string {
  const parts = path.split('/');
  return parts.length > 2 ? parts.slice(0, 2).join('/') : path;
}

function importsOf(file: string, text = readFileSync(file, 'utf8')): Import[] {
  return ts.preProcessFile(text, true, true).importedFiles.map(({ fileName: specifier }) => {
    if (specifier.startsWith('.')) return { file, specifier, target: areaOf(relative('.', resolve(dirname(file), specifier))) };
    if (specifier.startsWith('node:')) return { file, specifier, target: 'node:*' };
    const parts = specifier.split('/');
    return { file, specifier, target: specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]! };
  });
}

const importsUnder = (dir: string) => sources(dir).flatMap((file) => importsOf(file));
const show = (found: Import[]) => found.map((i) => `${i.file} → ${i.specifier}`);

const DISCORD = ['discord.js', '@discordjs/rest', '@discordjs/builders', 'discord-api-types'];
const QUEUES = ['bullmq', 'ioredis', '@bull-board/api', '@bull-board/fastify'];
const WEB = ['fastify', '@fastify/cookie', '@fastify/multipart', '@fastify/static'];

describe('import rules between layers', () => {
  it('the rules see every form of import', () => {
    const text = [
      "import a from '../pipeline/a.js';",
      "import type { B } from '../worker/b.js';",
      "export { c } from '../cli/c.js';",
      "export * from '../../tools/d.js';",
      "import '../bot/e.js';",
      "const f = await import('../model-build/f.js');",
      "const g = require('onnxruntime-node');",
    ].join('\n');
    expect(importsOf('src/shared/x.ts', text).map((i) => i.target)).toEqual([
      'src/pipeline', 'src/worker', 'src/cli', 'tools/d.js', 'src/bot', 'src/model-build', 'onnxruntime-node',
    ]);
  });

  it('src/shared is a leaf: it imports only itself, node built-ins, zod, pino (+ pino-pretty for terminals) and dotenv', () => {
    const allowed = new Set(['src/shared', 'node:*', 'zod', 'pino', 'pino-pretty', 'dotenv']);
    expect(show(importsUnder('src/shared').filter((i) => !allowed.has(i.target)))).toEqual([]);
  });

  it('src/redis (the one Redis connector) imports only shared, ioredis and BullMQ\'s types', () => {
    const allowed = new Set(['src/redis', 'src/shared', 'node:*', 'ioredis', 'bullmq']);
    expect(show(importsUnder('src/redis').filter((i) => !allowed.has(i.target)))).toEqual([]);
  });

  it('Redis clients are made only by the connector: no `new Redis(` or `new Cluster(` elsewhere in src/', () => {
    const makers = sources('src').filter((file) => !file.startsWith('src/redis/') && /new (Redis|Cluster)\(/.test(readFileSync(file, 'utf8')));
    expect(makers).toEqual([]);
  });

  it('src/bot never imports the pipeline, the worker, the CLI, the model builders, tools/ or onnxruntime', () => {
    const allowed = (t: string) => ['src/bot', 'src/shared', 'src/redis'].includes(t) || !/^(src|tools)\//.test(t);
    expect(show(importsUnder('src/bot').filter((i) => !allowed(i.target) || i.target === 'onnxruntime-node'))).toEqual([]);
  });

  it('src/worker imports only the pipeline and shared of the project, and talks to Discord over REST only', () => {
    const allowed = (t: string) => ['src/worker', 'src/pipeline', 'src/shared', 'src/redis'].includes(t) || !/^(src|tools)\//.test(t);
    const forbidden = new Set(['discord.js', 'onnxruntime-node']);
    expect(show(importsUnder('src/worker').filter((i) => !allowed(i.target) || forbidden.has(i.target)))).toEqual([]);
  });

  it('src/pipeline knows nothing of Discord, queues, Redis, web servers, the CLI, the model builders or tools/', () => {
    const allowed = (t: string) => t === 'src/pipeline' || t === 'src/shared' || !/^(src|tools)\//.test(t);
    const forbidden = new Set([...DISCORD, ...QUEUES, ...WEB]);
    expect(show(importsUnder('src/pipeline').filter((i) => !allowed(i.target) || forbidden.has(i.target)))).toEqual([]);
  });

  it('only src/pipeline/runtime/ort.ts imports onnxruntime-node', () => {
    const importers = new Set(importsUnder('src').filter((i) => i.target === 'onnxruntime-node').map((i) => i.file));
    expect([...importers]).toEqual(['src/pipeline/runtime/ort.ts']);
  });

  it('src/cli runs the pipeline and the model builders without Redis, Discord or tools/', () => {
    const allowed = (t: string) => ['src/cli', 'src/pipeline', 'src/model-build', 'src/shared'].includes(t) || !/^(src|tools)\//.test(t);
    const forbidden = new Set([...DISCORD, ...QUEUES]);
    expect(show(importsUnder('src/cli').filter((i) => !allowed(i.target) || forbidden.has(i.target)))).toEqual([]);
  });

  it('src/model-build builds on the pipeline contracts and shared only', () => {
    const allowed = (t: string) => ['src/model-build', 'src/pipeline', 'src/shared'].includes(t) || !/^(src|tools)\//.test(t);
    expect(show(importsUnder('src/model-build').filter((i) => !allowed(i.target)))).toEqual([]);
  });

  it('src/studio runs the pipeline or queues jobs, reusing the bot\'s queue and preset modules, never discord.js', () => {
    const botModules = new Set(['src/bot/enqueue.ts', 'src/bot/bot-keys.ts', 'src/bot/preset-catalog.ts', 'src/bot/guild-settings.ts']);
    const allowed = (i: Import) => ['src/studio', 'src/pipeline', 'src/worker', 'src/shared', 'src/redis'].includes(i.target) || (!/^(src|tools)\//.test(i.target));
    const botImport = (i: Import) => i.target === 'src/bot' && botModules.has(relative('.', resolve(dirname(i.file), i.specifier)).replace(/\.js$/, '.ts'));
    const forbidden = new Set([...DISCORD, 'onnxruntime-node']);
    expect(show(importsUnder('src/studio').filter((i) => (!allowed(i) && !botImport(i)) || forbidden.has(i.target)))).toEqual([]);
    // What those bot modules import must not drag discord.js in.
    for (const file of botModules) expect(show(importsOf(file).filter((i) => DISCORD.includes(i.target)))).toEqual([]);
  });

  it('web/ (the studio page) is browser code: it imports only itself', () => {
    expect(show(importsUnder('web/src').filter((i) => !i.specifier.startsWith('./')))).toEqual([]);
  });

  it('tools/ (maintainers\' scripts) imports nothing from src/', () => {
    expect(show(importsUnder('tools').filter((i) => i.target.startsWith('src/') || i.target === 'src/main.ts'))).toEqual([]);
  });
});

describe('bot handlers and Redis', () => {
  it('commands, components and the dispatcher reach Redis only through the bot\'s services (context.ts), never a raw client', () => {
    const handlers = [...sources('src/bot/commands'), ...sources('src/bot/components'), 'src/bot/interactions.ts'];
    const raw = handlers.flatMap((file) => readFileSync(file, 'utf8').split('\n').map((line, i) => ({ file, line: i + 1, text: line })))
      .filter(({ text }) => /\bredis\s*\.|\.redis\b|from 'ioredis'/.test(text))
      .map(({ file, line, text }) => `${file}:${line}: ${text.trim()}`);
    expect(raw).toEqual([]);
  });
});

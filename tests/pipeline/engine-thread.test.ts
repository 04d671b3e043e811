import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventLoopStalls } from '../../bench/stats.js';
import type { PipelineStage, TryOnEngine, TryOnRequest } from '../../src/pipeline/engine.js';
import { createPipelineEngine, createThreadedTryOnEngine, type PipelineThreadEvent } from '../../src/pipeline/engine-thread/index.js';
import { createTryOnEngine } from '../../src/pipeline/index.js';
import { HairError } from '../../src/shared/errors.js';
import { createLogger } from '../../src/shared/log.js';
import { ASTRONAUT, COFFEE, contractModelsDir, fixtureBytes, memoryPresetStore, testConfig } from './hairfast/fixtures.js';

/** Every worker thread this process starts until `stop()` (Node's process 'worker' event): the engine's threads. */
function watchThreads(): { threads: Worker[]; stop: () => void } {
  const threads: Worker[] = [];
  const listener = (worker: Worker) => threads.push(worker);
  process.on('worker', listener);
  return { threads, stop: () => process.off('worker', listener) };
}

/** An info-level logger whose lines a test reads back, parsed. */
function capturedLogger() {
  const lines: Array<{ level: number; msg?: string; code?: string }> = [];
  const logger = createLogger({ level: 'info', destination: new Writable({ write: (chunk, _e, done) => { lines.push(JSON.parse(String(chunk))); done(); } }) });
  return { logger, lines, errors: () => lines.filter((line) => line.level === 50) };
}

/** The engine on its own thread (PIPELINE_THREAD=on), against the same engine in this thread, on the contract graphs. */
describe('the pipeline thread', () => {
  let modelsDir: string;
  let cacheDir: string;
  let threaded: TryOnEngine;
  let inProcess: TryOnEngine;
  const selfie = fixtureBytes(ASTRONAUT);
  const config = (env: Record<string, string> = {}) => testConfig({ MODELS_DIR: modelsDir, PRESET_CACHE_DIR: cacheDir, STYLES_DIR: 'styles', ...env });

  beforeAll(async () => {
    modelsDir = contractModelsDir();
    cacheDir = mkdtempSync(join(tmpdir(), 'hairfast-presets-'));
    threaded = await createThreadedTryOnEngine(config());
    // The thread takes HAIR_SWAP=auto as on (preferSwap); the same graphs here for a like comparison.
    inProcess = await createTryOnEngine(config({ HAIR_SWAP: 'on' }));
  }, 60_000);
  afterAll(async () => {
    await threaded?.dispose();
    await inProcess?.dispose();
    rmSync(cacheDir, { recursive: true, force: true });
    rmSync(modelsDir, { recursive: true, force: true });
  });

  it('gives the same pixels as the engine in this thread, in three graph runs, with its stages in order', async () => {
    const request: TryOnRequest = { selfie, shape: { presetId: 'builtin:short-layered-mirrored' }, color: { presetId: 'builtin:copper' }, pasteBack: true };
    await inProcess.tryOn(request); // builds both presets' caches (shared directory), so both sides read them
    const stages: PipelineStage[] = [];
    const [here, there] = [await inProcess.tryOn(request), await threaded.tryOn({ ...request, onStage: (s) => stages.push(s) })];
    expect([there.image.width, there.image.height]).toEqual([here.image.width, here.image.height]);
    expect(Buffer.from(there.image.data).equals(Buffer.from(here.image.data))).toBe(true);
    expect(there.graphRuns).toEqual({ bisenet: 1, embed: 1, swap: 1 });
    expect(stages).toEqual(['detecting', 'aligning', 'transferring', 'pasting']);
    expect(threaded.info).toMatchObject({ executionProvider: 'cpu', modelKind: 'contract' });
  });

  it('keeps the caller\'s event loop turning while graphs run, where the engine in this thread holds it', async () => {
    const request: TryOnRequest = { selfie, color: { presetId: 'builtin:rose' }, pasteBack: false };
    await threaded.tryOn(request);
    await inProcess.tryOn(request);
    const three = (engine: TryOnEngine) => async () => { for (let i = 0; i < 3; i += 1) await engine.tryOn(request); };
    const there = (await eventLoopStalls(three(threaded))).heldMs;
    const here = (await eventLoopStalls(three(inProcess))).heldMs;
    // Measured on the 2-core machine with an export running beside it: 24–52 ms against 300–400 ms.
    expect(there).toBeLessThan(here / 3);
  });

  it('passes typed errors back with their code and params, and cancels on the caller\'s signal', async () => {
    const error = await threaded.tryOn({ selfie, shape: { image: fixtureBytes(COFFEE) }, pasteBack: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HairError);
    expect(error).toMatchObject({ code: 'NO_FACE', params: { role: 'shape' } });
    await expect(threaded.tryOn({ selfie, pasteBack: false })).rejects.toMatchObject({ code: 'NEED_SHAPE_OR_COLOR' });
    const controller = new AbortController();
    controller.abort();
    await expect(threaded.tryOn({ selfie, color: { presetId: 'builtin:rose' }, pasteBack: false, signal: controller.signal }))
      .rejects.toMatchObject({ code: 'JOB_CANCELLED' });
  });

  it('keeps preset caches and sources on the caller\'s side: the thread calls back for them', async () => {
    const store = memoryPresetStore();
    const sources: string[] = [];
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: new Writable({ write: (chunk, _e, done) => { lines.push(String(chunk)); done(); } }) });
    const guild = await createThreadedTryOnEngine(config(), {
      warm: false, presetCache: store, logger,
      presetSource: async (presetId) => (sources.push(presetId), { kind: 'both', image: fixtureBytes('styles/astronaut-mirrored.png') }),
    });
    try {
      const built = await guild.buildPreset('guild:123456:bob', 'both', fixtureBytes('styles/astronaut-mirrored.png'));
      expect(built).toMatchObject({ presetId: 'guild:123456:bob', kind: 'both' });
      expect(store.entries.size).toBe(1);
      const result = await guild.tryOn({ selfie, shape: { presetId: 'guild:123456:bob' }, color: { presetId: 'guild:123456:bob' }, pasteBack: false });
      expect(result.graphRuns).toEqual({ bisenet: 1, embed: 1, swap: 1 });
      expect(store.calls).toContain('get');
      // A preset the store lacks is rebuilt from its source, asked for on this side.
      store.entries.clear();
      await guild.tryOn({ selfie, shape: { presetId: 'guild:123456:bob' }, pasteBack: false });
      expect(sources).toEqual(['guild:123456:bob']);
      expect(store.entries.size).toBe(1);
      // The thread's log lines come out of the caller's logger.
      expect(lines.some((line) => JSON.parse(line).msg?.startsWith('try-on engine ready'))).toBe(true);
    } finally {
      await guild.dispose();
      await guild.dispose();
    }
    await expect(guild.tryOn({ selfie, color: { presetId: 'builtin:rose' }, pasteBack: false })).rejects.toBeInstanceOf(HairError);
  });

  it('fails to start with the engine\'s own load error', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'hairfast-none-'));
    try {
      await expect(createPipelineEngine(config({ MODELS_DIR: empty }))).rejects.toMatchObject({ code: 'MODEL_MISSING' });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  describe('when the thread dies', () => {
    const request: TryOnRequest = { selfie, color: { presetId: 'builtin:rose' }, pasteBack: false };
    /** A request whose thread is ended while it runs, after `before` (e.g. moving the models away). */
    const killedMidway = (engine: TryOnEngine, thread: () => Worker, before = () => {}) => engine.tryOn({
      ...request,
      onStage: (stage) => {
        if (stage !== 'detecting') return;
        before();
        void thread().terminate();
      },
    });

    it('fails the request it held with a typed error, starts a new thread, and the next request gets the same pixels', async () => {
      const { threads, stop } = watchThreads();
      const { logger, lines, errors } = capturedLogger();
      const events: PipelineThreadEvent[] = [];
      const engine = await createThreadedTryOnEngine(config(), { warm: false, logger, onThreadEvent: (event) => events.push(event) });
      try {
        const before = await engine.tryOn(request);
        expect(threads).toHaveLength(1);
        const error = await killedMidway(engine, () => threads[0]!).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(HairError);
        expect(error).toMatchObject({ code: 'INTERNAL', params: { stage: 'pipeline-thread' } });
        // Asked while the new thread loads: it waits for it.
        expect(events.map((event) => event.state)).toEqual(['restarting']);
        const after = await engine.tryOn(request);
        expect(threads).toHaveLength(2);
        expect(events.map((event) => event.state)).toEqual(['restarting', 'up']);
        expect([after.image.width, after.image.height]).toEqual([before.image.width, before.image.height]);
        expect(Buffer.from(after.image.data).equals(Buffer.from(before.image.data))).toBe(true);
        expect(errors().map((line) => line.msg)).toEqual([expect.stringMatching(/^the pipeline thread died \(INTERNAL\); 1 request\(s\) failed/)]);
        expect(lines.filter((line) => line.msg?.startsWith('the pipeline thread is back'))).toHaveLength(1);
      } finally {
        stop();
        await engine.dispose();
      }
      expect(threads).toHaveLength(2); // disposing ends the thread without starting another
      await expect(engine.tryOn(request)).rejects.toMatchObject({ code: 'INTERNAL' });
    });

    it('a restart that cannot load fails the requests waiting for it with its load error; after restart.maxFailures it stays down', async () => {
      const dir = contractModelsDir();
      const moved = `${dir}-moved`;
      const { threads, stop } = watchThreads();
      const { logger, lines, errors } = capturedLogger();
      type Down = Extract<PipelineThreadEvent, { state: 'down' }>;
      let wentDown!: (event: Down) => void;
      const down = new Promise<Down>((resolve) => { wentDown = resolve; });
      const engine = await createThreadedTryOnEngine(config({ MODELS_DIR: dir }), {
        warm: false, logger, restart: { maxFailures: 2, backoffMs: 10 }, onThreadEvent: (event) => event.state === 'down' && wentDown(event),
      });
      try {
        await expect(killedMidway(engine, () => threads[0]!, () => renameSync(dir, moved))).rejects.toMatchObject({ code: 'INTERNAL' });
        // Waits for the first restart, which finds no models.
        await expect(engine.tryOn(request)).rejects.toMatchObject({ code: 'MODEL_MISSING' });
        expect((await down).error).toMatchObject({ code: 'MODEL_MISSING' });
        await expect(engine.tryOn(request)).rejects.toMatchObject({ code: 'MODEL_MISSING' });
        expect(threads).toHaveLength(3); // the first, then two restarts that failed
        expect(lines.filter((line) => line.msg?.startsWith('the pipeline thread did not restart:'))).toHaveLength(1);
        const [died, stays] = errors();
        expect(died?.msg).toMatch(/^the pipeline thread died/);
        expect(stays).toMatchObject({ code: 'MODEL_MISSING', msg: expect.stringMatching(/did not restart in 2 attempts and stays down: MODEL_MISSING: .*hairstyler models prepare/) });
        expect(errors()).toHaveLength(2);
      } finally {
        stop();
        await engine.dispose();
        rmSync(moved, { recursive: true, force: true });
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('a request waiting for the new thread ends on its signal, and disposing stops the restart', async () => {
      const { threads, stop } = watchThreads();
      const events: PipelineThreadEvent[] = [];
      const engine = await createThreadedTryOnEngine(config(), { warm: false, onThreadEvent: (event) => events.push(event) });
      try {
        await threads[0]!.terminate(); // idle: no request fails, but the engine still needs a new thread
        expect(events.map((event) => event.state)).toEqual(['restarting']);
        const controller = new AbortController();
        const cancelled = engine.tryOn({ ...request, signal: controller.signal });
        const waiting = engine.tryOn(request);
        controller.abort();
        await expect(cancelled).rejects.toMatchObject({ code: 'JOB_CANCELLED', params: { stage: 'pipeline-thread' } });
        await engine.dispose();
        await expect(waiting).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('disposed') });
      } finally {
        stop();
        await engine.dispose();
      }
      expect(threads).toHaveLength(2);
      expect(events.map((event) => event.state)).toEqual(['restarting']);
    });
  });

  it('PIPELINE_THREAD=off builds the engine in this thread, where HAIR_SWAP=auto keeps the split chain on the CPU', async () => {
    const here = await createPipelineEngine(config({ PIPELINE_THREAD: 'off' }), { warm: false });
    try {
      const result = await here.tryOn({ selfie, color: { presetId: 'builtin:rose' }, pasteBack: false });
      expect(result.graphRuns?.['swap']).toBeUndefined();
      expect(result.graphRuns?.['refine']).toBe(1);
    } finally {
      await here.dispose();
    }
  });
});

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAstronaut, onCanvas } from '../helpers/images.js';

/** Runs the built CLI (`npm run build` first; `npm test` does). */
function gpuDeviceNodes(): boolean {
  return readdirSync('/dev').some((n) => /^nvidia\d+$/.test(n)) || existsSync('/dev/dri');
}

function hairstyler(args: string[], ep = 'cpu', env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/hairstyler.js', ...args], { env: { ...process.env, HAIR_EP: ep, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('hairstyler align', () => {
  let dir: string;
  beforeAll(() => {
    if (!existsSync('dist/src/cli/main.js')) throw new Error('run `npm run build` before the CLI tests');
    dir = mkdtempSync(join(tmpdir(), 'hairstyler-align-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('aligns astronaut.png: exit 0, a 1024² PNG and a JSON report', async () => {
    const out = join(dir, 'out.png');
    const run = await hairstyler(['align', 'tests/fixtures/astronaut.png', '-o', out, '--json']);
    expect(run.stderr).not.toMatch(/error\[/);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as Record<string, any>;
    expect(report['facesFound']).toBe(1);
    expect(report['size']).toBe(1024);
    expect(report['face'].box.width).toBeGreaterThan(64);
    expect(report['face'].keypoints).toHaveLength(6);
    expect(report['face'].landmarks.eyes).toHaveLength(2);
    expect(report['face'].landmarks.mouth).toHaveLength(2);
    expect(typeof report['face'].yawDeg).toBe('number');
    expect(report['transform']).toHaveLength(9);
    expect(report['inverse']).toHaveLength(9);
    // The transform sends the reported left eye to the FFHQ spot: x ≈ 384 in a frontal 1024 crop.
    const [t0, t1, t2, t3, t4, t5] = report['transform'] as number[];
    const eye = report['face'].landmarks.eyes[0] as { x: number; y: number };
    expect(Math.abs(t0! * eye.x + t1! * eye.y + t2! - 384)).toBeLessThan(6);
    expect(t3! * eye.x + t4! * eye.y + t5!).toBeGreaterThan(400);
    const meta = await sharp(out).metadata();
    expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(['png', 1024, 1024, 3]);
  });

  it('leaves no onnxruntime telemetry behind: no database under ~/.cache, no debug log in the temp dir', async () => {
    const home = mkdtempSync(join(tmpdir(), 'hair-home-'));
    const temp = mkdtempSync(join(tmpdir(), 'hair-tmp-'));
    try {
      // Not set by the caller: the process itself turns ORT telemetry off before onnxruntime loads.
      const env = { HOME: home, TMPDIR: temp, ORT_DISABLE_TELEMETRY: '' };
      const run = await hairstyler(['align', 'tests/fixtures/astronaut.png', '-o', join(dir, 'telemetry.png')], 'cpu', env);
      expect(run.code).toBe(0);
      const leftovers = [...readdirSync(home, { recursive: true }), ...readdirSync(temp, { recursive: true })].map(String);
      expect(leftovers).toEqual([]); // before the fix: .cache/Microsoft/DeveloperTools/.onnxruntime/{deviceid,onnxruntime.db}, mat-debug-<pid>.log
    } finally {
      rmSync(home, { recursive: true, force: true });
      rmSync(temp, { recursive: true, force: true });
    }
  });

  it.skipIf(gpuDeviceNodes())('HAIR_EP=auto on a host without a GPU goes straight to the CPU: no WebGPU/Vulkan noise on stderr', async () => {
    const r = await hairstyler(['align', 'tests/fixtures/astronaut.png', '-o', join(dir, 'auto.png')], 'auto');
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/vulkan|XDG_RUNTIME_DIR/i);
  });

  it('prints a one-line summary without --json', async () => {
    const run = await hairstyler(['align', 'tests/fixtures/astronaut.png', '-o', join(dir, 'plain.png')]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^aligned tests\/fixtures\/astronaut\.png → .*plain\.png \(1024²\): 1 face\(s\)/);
  });

  it('a 6000×1000 panorama with a small face: exit 0, the face box reported in the file\'s pixels', async () => {
    // Before the fix: error[NO_FACE] (the working copy was 2048×341 and the letterbox showed a ~4 px face).
    const input = join(dir, 'panorama.jpg');
    writeFileSync(input, await onCanvas(await loadAstronaut(), { width: 6000, height: 1000 }, 600, [{ left: 4200, top: 200 }]));
    const run = await hairstyler(['align', input, '-o', join(dir, 'panorama.png'), '--json']);
    expect(run.stderr).not.toMatch(/error\[/);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as Record<string, any>;
    expect(report['facesFound']).toBe(1);
    expect(report['image']).toEqual({ width: 6000, height: 1000 });
    expect(report['working']).toEqual({ width: 5017, height: 836 });
    // astronaut.png's face box is ~(174, 70) 105 px in its 512²; pasted 600 wide at (4200, 200).
    const k = 600 / 512;
    expect(Math.abs(report['face'].box.x - (4200 + 174 * k))).toBeLessThan(15);
    expect(Math.abs(report['face'].box.y - (200 + 70 * k))).toBeLessThan(15);
    expect(Math.abs(report['face'].box.width - 105 * k)).toBeLessThan(15);
  });

  it('a photo without a face: exit 2 and error[NO_FACE] on stderr, nothing written', async () => {
    const out = join(dir, 'none.png');
    const run = await hairstyler(['align', 'tests/fixtures/coffee.png', '-o', out, '--json']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error\[NO_FACE\]: I could not find a face/m);
    expect(run.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
  });

  it('bad input: exit 2 with a code for a file that is not an image, and for a missing -o', async () => {
    const notImage = await hairstyler(['align', 'package.json', '-o', join(dir, 'x.png')]);
    expect(notImage.code).toBe(2);
    expect(notImage.stderr).toMatch(/^error\[(UNSUPPORTED_FORMAT|BAD_IMAGE)\]: /m);
    const noOutput = await hairstyler(['align', 'tests/fixtures/astronaut.png']);
    expect(noOutput.code).toBe(2);
    expect(noOutput.stderr).toMatch(/required option '-o, --output <file>'/);
  });
});

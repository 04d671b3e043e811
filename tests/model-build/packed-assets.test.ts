import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractPackedFile, packedFiles, readTflite } from '../../src/model-build/tflite-to-onnx/index.js';

const dir = dirname(createRequire(import.meta.url).resolve('@mediapipe/face_mesh/package.json'));

describe('MediaPipe packed assets', () => {
  it('reads the file table from the loader script and slices face_landmark.tflite out of the data', () => {
    const loader = readFileSync(join(dir, 'face_mesh_solution_packed_assets_loader.js'), 'utf8');
    const data = readFileSync(join(dir, 'face_mesh_solution_packed_assets.data'));
    const files = packedFiles(loader);
    expect(files.map((f) => f.filename.split('/').pop())).toContain('face_landmark.tflite');
    expect(Math.max(...files.map((f) => f.end))).toBe(data.length);
    const tflite = extractPackedFile(loader, data, 'face_landmark.tflite');
    const model = readTflite(tflite);
    expect(model.tensors[model.inputs[0]!]!.shape).toEqual([1, 192, 192, 3]);
    expect(model.tensors[model.outputs[0]!]!.shape).toEqual([1, 1, 1, 1404]);
  });

  it('rejects a loader without metadata, a missing member and offsets past the data', () => {
    expect(() => packedFiles('var x = 1;')).toThrow(/loadPackage/);
    const loader = 'loadPackage({"files": [{"filename": "/a/b.tflite", "start": 0, "end": 10}], "remote_package_size": 10});';
    expect(() => extractPackedFile(loader, new Uint8Array(10), 'c.tflite')).toThrow(/Expected c.tflite.*\/a\/b.tflite/);
    expect(() => extractPackedFile(loader, new Uint8Array(5), 'b.tflite')).toThrow(/ends at 10/);
    expect(extractPackedFile(loader, new Uint8Array(10).fill(7), 'b.tflite')).toHaveLength(10);
  });
});

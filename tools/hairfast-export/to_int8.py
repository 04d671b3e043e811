#!/usr/bin/env python3
"""int8 variants of exported graphs for CPU hosts: <name>.onnx -> <name>_int8.onnx, with manifest entries.

  to_int8.py --models models/hairfast --only embed,swap [--calibration-seeds 0,1] [--check-seed 7] [--report rows.jsonl]

Each fp32 graph runs once per calibration seed in onnxruntime (the contract's example inputs) to record the range of
every tensor its constant-weight convolutions read or write; those convolutions are then quantized (int8 weights per
output channel, uint8 activations per tensor, QDQ form that onnxruntime fuses into QLinearConv;
hairfast_export/int8.py). The variant keeps the contract's float32 inputs and outputs. The check runs both graphs on
inputs of a seed the calibration did not see and reports max-abs, mean-abs and PSNR per float output (and each
graph's first, cold run time; warm times: `BENCH_PRECISIONS=fp32,int8 npm run bench:compare`).

Random weights say how much quantization moves these networks' numbers, not how a real hairstyle looks: with the
official weights, check the images (docs/performance.md, "int8 on the CPU").
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import onnx  # noqa: E402

from hairfast_export.graphs import example_inputs  # noqa: E402
from hairfast_export.int8 import calibrate, quantize_convs  # noqa: E402
from hairfast_export.onnx_io import REPO_ROOT, contract_mismatches, feeds_of, load_contract, run_ort, save_onnx, sha256  # noqa: E402
from hairfast_export.rows import emit  # noqa: E402


def float_output_errors(spec: dict, got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> dict:
    """max-abs, mean-abs and PSNR (peak: the reference's value range) of every float output; changed labels of int
    outputs."""
    row = {}
    for s in spec['outputs']:
        g = got[s['name']].astype(np.float64)
        w = np.asarray(want[s['name']]).reshape(g.shape).astype(np.float64)
        if s['dtype'] == 'int64':
            row[s['name']] = {'mismatched_labels': int((g != w).sum()), 'of': int(g.size)}
            continue
        err = np.abs(g - w)
        peak = float(w.max() - w.min()) or 1.0
        mse = float(np.mean(err ** 2))
        row[s['name']] = {'max_abs': float(err.max()), 'mean_abs': float(err.mean()),
                          'psnr_db': round(10 * np.log10(peak ** 2 / mse), 2) if mse > 0 else float('inf'),
                          'finite': bool(np.isfinite(g).all())}
    return row


# CtrlHair's mask decoders: their output is an argmax over 19 labels, where small errors flip near-ties (8.4% of the
# labels of swap's target mask with them in int8, random weights), and their convolutions are a small share of the time
DEFAULT_KEEP = '/ctrl_'


def write_int8_variant(name: str, spec: dict, fp32_path: Path, manifest: dict, calibration_seeds: list[int],
                       check_seed: int | None, keep: tuple[str, ...] = ()) -> dict:
    """Writes <name>_int8.onnx next to fp32_path, adds its manifest entry and returns a report row."""
    t0 = time.time()
    ranges = calibrate(fp32_path, [feeds_of(spec, example_inputs(spec, seed=s)) for s in calibration_seeds], run_ort, keep)
    model, report = quantize_convs(onnx.load(str(fp32_path)), ranges, keep)
    path = fp32_path.with_name(f'{name}_int8.onnx')
    data = save_onnx(model, path)
    del model
    problems = contract_mismatches(path, spec)
    if problems:
        raise RuntimeError(f'{name}_int8 does not match the contract: {problems}')
    entry32 = manifest['models'][name]
    entry = dict(entry32, file=str(Path(entry32['file']).with_name(path.name)), sha256=sha256(path),
                 bytes=path.stat().st_size, precision='int8')
    for key in ('externalData', 'weightBytes', 'activationBytes'):
        entry.pop(key, None)  # the fp32 graph's figures are not this one's
    if data is not None:
        entry['externalData'] = {'file': str(Path(entry32['file']).with_name(data.name)), 'sha256': sha256(data),
                                 'bytes': data.stat().st_size}
    entry['notes'] = (f"{entry32.get('notes', '')}; int8 from {fp32_path.name} (tools/hairfast-export/to_int8.py, "
                      f"calibration seeds {','.join(map(str, calibration_seeds))}, kept {','.join(keep) or 'none'}): "
                      f"{report.int8_convs} int8 convolutions, "
                      f"{len(report.kept)} kept fp32").lstrip('; ')
    manifest['models'][f'{name}_int8'] = entry
    row = {'graph': f'{name}_int8', **report.as_dict(), 'calibration_seeds': calibration_seeds, 'keep': list(keep),
           'bytes': entry['bytes'] + entry.get('externalData', {}).get('bytes', 0),
           'fp32_bytes': entry32['bytes'] + entry32.get('externalData', {}).get('bytes', 0)}
    if check_seed is not None:
        feeds = feeds_of(spec, example_inputs(spec, seed=check_seed))
        want, ms32 = run_ort(fp32_path, feeds)
        got, ms8 = run_ort(path, feeds)
        # one cold run each (arena growth, prepacking): warm figures come from the benches (bench:compare)
        row.update({'check_seed': check_seed, 'vs_fp32': float_output_errors(spec, got, want),
                    'first_run_ms_fp32': round(ms32, 1), 'first_run_ms_int8': round(ms8, 1)})
    row['seconds'] = round(time.time() - t0, 1)
    return row


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--models', type=Path, default=REPO_ROOT / 'models' / 'hairfast', help='export directory')
    p.add_argument('--only', type=str, default='embed,swap', help='comma-separated graph names')
    p.add_argument('--calibration-seeds', type=str, default='0,1', help='example-input seeds the ranges come from')
    p.add_argument('--check-seed', type=int, default=7, help='example-input seed of the check (not a calibration one)')
    p.add_argument('--keep', type=str, default=DEFAULT_KEEP, help='comma-separated node-name prefixes of convolutions '
                   'that stay float32 (default: CtrlHair\'s mask decoders; "" quantizes them too)')
    p.add_argument('--no-check', action='store_true', help='skip comparing each int8 graph with its fp32 graph')
    p.add_argument('--report', type=Path, help='append one JSON line per graph here')
    args = p.parse_args(argv)
    contract = load_contract()
    specs = {**contract['graphs'], **contract.get('composites', {})}
    manifest_path = args.models / 'manifest.json'
    manifest = json.loads(manifest_path.read_text())
    fp32 = [n for n in specs if manifest['models'].get(n, {}).get('precision', 'fp32') == 'fp32'
            and n in manifest['models']]
    names = [n for n in args.only.split(',') if n]
    unknown = [n for n in names if n not in fp32]
    if unknown:
        print(f'Expected fp32 graphs of {manifest_path} for --only but received {unknown}', file=sys.stderr)
        return 2
    seeds = [int(s) for s in args.calibration_seeds.split(',') if s]
    if not args.no_check and args.check_seed in seeds:
        print(f'Expected a --check-seed the calibration does not use, but {args.check_seed} is in {seeds}', file=sys.stderr)
        return 2
    for name in names:
        row = write_int8_variant(name, specs[name], args.models / Path(manifest['models'][name]['file']).name,
                                 manifest, seeds, None if args.no_check else args.check_seed,
                                 tuple(k for k in args.keep.split(',') if k))
        manifest_path.write_text(json.dumps(manifest, indent=2) + '\n')
        emit(row, args.report)
    return 0


if __name__ == '__main__':
    sys.exit(main())

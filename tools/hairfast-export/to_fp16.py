#!/usr/bin/env python3
"""Half-precision variants of exported graphs: <name>.onnx -> <name>_fp16.onnx, with manifest entries.

  to_fp16.py --models models/hairfast [--only embed,refine,swap] [--limit 8192] [--target 0.01] [--seed 0] [--report rows.jsonl]

Each fp32 graph runs once in onnxruntime on the contract's example inputs (seed --seed) to record every tensor's
largest magnitude and shape; nodes whose tensors exceed --limit stay float32 (hairfast_export/fp16.py). The variant
keeps the contract's float32 inputs and outputs, so the runtime feeds either precision the same way. The fp16 graph
is then compared with the fp32 graph on the same inputs, computed with fp16 storage and float32 arithmetic per op
(fp16.emulate_half: what a GPU with fp32 accumulation does; onnxruntime's CPU EP would skip roundings). A graph that
misses --target (max-abs; label maps: at most 1% of labels changed) is converted again with tighter limits (1024,
256, 64, 16), each keeping more nodes at fp32, until it meets it. BatchNormalization always stays fp32.

Composites count as graphs here (`--only swap`). A graph whose weights pass protobuf's 2 GB (swap, swap_fp16) is
read with its `<file>.data` and written with one of its own (onnx_io.save_onnx); the manifest entry gets
`externalData` for it.

export.py --fp16 calls the same code right after writing each fp32 graph.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import onnx  # noqa: E402

from hairfast_export import costs  # noqa: E402
from hairfast_export.fp16 import DEFAULT_LIMIT, convert_to_fp16, emulate_half, probe  # noqa: E402
from hairfast_export.graphs import example_inputs  # noqa: E402
from hairfast_export.rows import emit  # noqa: E402
from hairfast_export.onnx_io import (REPO_ROOT, contract_mismatches, feeds_of, load_contract, output_errors,  # noqa: E402
                                     run_ort, save_onnx, sha256)


TARGET_MAX_ABS = 1e-2  # the fp16 target per graph
TARGET_LABEL_FRACTION = 0.01  # label maps: at most 1% of the labels may change (argmax ties flip in fp16)
# BatchNormalization is cheap and elementwise; at fp32 its running statistics are not rounded (x - mean cancels).
KEEP_FP32_OPS = frozenset({'BatchNormalization'})


def meets_target(errors: dict, target: float, label_fraction: float) -> bool:
    """Every float output within `target` (max-abs) and finite; every label output with at most `label_fraction`
    of its labels changed."""
    for o in errors.values():
        if 'mismatched_labels' in o:
            if o['mismatched_labels'] > label_fraction * o['of']:
                return False
        elif not o['finite'] or o['max_abs'] > target:
            return False
    return True


def limit_schedule(limit: float, floor: float) -> list[float]:
    """The calibration limit to try first, then tighter ones (more nodes kept at fp32) down to `floor`."""
    return [limit] + [x for x in (1024.0, 256.0, 64.0, 16.0) if floor <= x < limit]


def write_fp16_variant(name: str, spec: dict, fp32_path: Path, manifest: dict, seed: int = 0,
                       limit: float = DEFAULT_LIMIT, check: bool = True, target: float = TARGET_MAX_ABS,
                       label_fraction: float = TARGET_LABEL_FRACTION, floor: float = 16.0) -> dict:
    """Writes <name>_fp16.onnx next to fp32_path, updates manifest['models'] (both entries get weight and
    activation bytes) and returns a report row.

    With `check`, the fp16 graph is compared with the fp32 graph (fp16.emulate_half, on the calibration inputs); if it
    misses `target`, the conversion is redone with a tighter limit (down to `floor`), keeping more nodes at fp32. The
    row says which limit was kept and whether it met the target."""
    t0 = time.time()
    feeds = feeds_of(spec, example_inputs(spec, seed=seed))
    measured = probe(fp32_path, feeds, run_ort)
    entry32 = manifest['models'][name]
    entry32.update(costs.memory_figures(onnx.load(str(fp32_path), load_external_data=False), measured.shapes))
    # the fp32 run before the weights are in this process: a 4.6 GB graph (swap) and its run do not fit twice in 24 GB
    want = run_ort(fp32_path, feeds) if check else None
    tried = []
    for lim in limit_schedule(limit, floor) if check else [limit]:
        model = onnx.load(str(fp32_path))
        half, report = convert_to_fp16(model, measured.absmax, limit=lim, keep_ops=KEEP_FP32_OPS)
        del model
        if not check:
            break
        with tempfile.TemporaryDirectory(prefix='hairfast-fp16-') as tmp:
            emulated = Path(tmp) / 'emulated.onnx'
            save_onnx(emulate_half(half), emulated)
            got, _ = run_ort(emulated, feeds)
        errors = output_errors(spec, got, want[0])
        ok = meets_target(errors, target, label_fraction)
        tried.append({'limit': lim, 'fp32_nodes': report.fp32_nodes, 'meets_target': ok})
        if ok:
            break
    path = fp32_path.with_name(f'{name}_fp16.onnx')
    memory16 = costs.memory_figures(half, measured.shapes)  # before saving: external data leaves `half` empty
    data = save_onnx(half, path)
    del half
    problems = contract_mismatches(path, spec)
    if problems:
        raise RuntimeError(f'{name}_fp16 does not match the contract: {problems}')
    entry = dict(entry32, file=str(Path(entry32['file']).with_name(path.name)), sha256=sha256(path),
                 bytes=path.stat().st_size, precision='fp16', **memory16)
    entry.pop('externalData', None)  # the fp32 graph's weights file is not this one's
    if data is not None:
        entry['externalData'] = {'file': str(Path(entry32['file']).with_name(data.name)), 'sha256': sha256(data),
                                 'bytes': data.stat().st_size}
    entry['notes'] = (f"{entry32.get('notes', '')}; fp16 from {fp32_path.name} (tools/hairfast-export/to_fp16.py, "
                      f"limit {lim:g}): {report.fp16_nodes} fp16 nodes, {report.fp32_nodes} kept fp32").lstrip('; ')
    manifest['models'][f'{name}_fp16'] = entry
    row = {'graph': f'{name}_fp16', 'limit': lim, **report.as_dict(),
           'bytes': entry['bytes'] + entry.get('externalData', {}).get('bytes', 0),
           'weight_bytes': entry['weightBytes'], 'activation_bytes': entry['activationBytes'],
           'fp32_weight_bytes': entry32['weightBytes'], 'fp32_activation_bytes': entry32['activationBytes'],
           'calibration_max_abs': max(measured.absmax.values(), default=0.0)}
    if check:
        real, ms16 = run_ort(path, feeds)  # the shipped file itself loads and runs (CPU EP)
        row.update({'tried': tried, 'meets_target': tried[-1]['meets_target'], 'target_max_abs': target,
                    'vs_fp32': errors, 'shipped_file_vs_fp32': output_errors(spec, real, want[0]),
                    'ort_cpu_ms_fp32': round(want[1], 1), 'ort_cpu_ms_fp16': round(ms16, 1)})
        if not row['meets_target']:
            entry['notes'] += f'; misses the fp16 target ({target:g}) on the calibration inputs'
            print(f'# {name}_fp16 misses the target {target:g} even at limit {lim:g}: {errors}', file=sys.stderr)
    row['seconds'] = round(time.time() - t0, 1)
    return row


def refresh_memory(name: str, spec: dict, fp32_path: Path, manifest: dict, seed: int = 0) -> dict:
    """Recomputes weightBytes / activationBytes of <name> and <name>_fp16 (one probe run of the fp32 graph)."""
    feeds = feeds_of(spec, example_inputs(spec, seed=seed))
    shapes = probe(fp32_path, feeds, run_ort).shapes
    row = {'graph': name}
    for key in (name, f'{name}_fp16'):
        if key in manifest['models']:
            model = onnx.load(str(fp32_path.with_name(Path(manifest['models'][key]['file']).name)))
            manifest['models'][key].update(costs.memory_figures(model, shapes))
            row[key] = {k: manifest['models'][key][k] for k in ('weightBytes', 'activationBytes')}
            del model
    return row


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--models', type=Path, default=REPO_ROOT / 'models' / 'hairfast', help='export directory')
    p.add_argument('--only', type=str, default='', help='comma-separated graph names (default: every fp32 graph)')
    p.add_argument('--limit', type=float, default=DEFAULT_LIMIT, help='keep nodes whose tensors exceed this at fp32')
    p.add_argument('--seed', type=int, default=0, help='example inputs for calibration and the check')
    p.add_argument('--no-check', action='store_true', help='skip comparing each fp16 graph with its fp32 graph '
                   '(and so the tighter limits tried when a graph misses --target)')
    p.add_argument('--target', type=float, default=TARGET_MAX_ABS, help='max-abs error an fp16 graph must meet')
    p.add_argument('--report', type=Path, help='append one JSON line per graph here')
    p.add_argument('--memory-only', action='store_true', help='only recompute weightBytes / activationBytes of the '
                   'graphs and their fp16 variants')
    args = p.parse_args(argv)
    contract = load_contract()
    specs = {**contract['graphs'], **contract.get('composites', {})}
    manifest_path = args.models / 'manifest.json'
    manifest = json.loads(manifest_path.read_text())
    fp32 = [n for n in specs if manifest['models'].get(n, {}).get('precision', 'fp32') == 'fp32'
            and n in manifest['models']]
    names = [n for n in args.only.split(',') if n] or fp32
    unknown = [n for n in names if n not in fp32]
    if unknown:
        print(f'Expected fp32 graphs of {manifest_path} for --only but received {unknown}', file=sys.stderr)
        return 2
    for name in names:
        if args.memory_only:
            row = refresh_memory(name, specs[name], args.models / Path(manifest['models'][name]['file']).name,
                                 manifest, seed=args.seed)
            manifest_path.write_text(json.dumps(manifest, indent=2) + '\n')
            emit(row)
            continue
        row = write_fp16_variant(name, specs[name], args.models / Path(manifest['models'][name]['file']).name,
                                 manifest, seed=args.seed, limit=args.limit, check=not args.no_check,
                                 target=args.target)
        manifest_path.write_text(json.dumps(manifest, indent=2) + '\n')
        emit(row, args.report)
    return 0


if __name__ == '__main__':
    sys.exit(main())

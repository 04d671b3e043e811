#!/usr/bin/env python3
"""Export HairFastGAN as the ONNX graph split of src/pipeline/hairfast/graphs.contract.json.

  official weights:  export.py --src /path/HairFastGAN --checkpoints /path/HairFastGAN/pretrained_models
  random weights:    export.py --src /path/HairFastGAN --random-weights --seed 0
  options:           --only embed,bisenet  --fp16  --device cuda  --out models/hairfast  --check

The architectures always come from --src (a checkout of AIRI-Institute/HairFastGAN, imported at run time and never
copied here). Writes <out>/<name>.onnx (+ <name>_fp16.onnx) and <out>/manifest.json (src/pipeline/runtime/manifest.ts
schema; files are relative to the models directory, i.e. hairfast/<name>.onnx).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import onnx  # noqa: E402
import torch  # noqa: E402

from hairfast_export import costs  # noqa: E402
from hairfast_export.graphs import Builders, example_inputs  # noqa: E402
from hairfast_export.official import Official  # noqa: E402
from hairfast_export.onnx_io import (REPO_ROOT, contract_mismatches, export_onnx, load_contract, run_ort,  # noqa: E402
                                     sha256, stamp_output_shapes)

LICENSE = 'HairFastGAN: MIT (code); see the official repo for each checkpoint license'


def src_version(src: Path) -> str:
    try:
        return subprocess.run(['git', '-C', str(src), 'rev-parse', 'HEAD'], capture_output=True, text=True,
                              check=True).stdout.strip() or 'unknown'
    except Exception:  # a plain tarball export has no git metadata
        marker = src / '.hairfast-commit'
        return marker.read_text().strip() if marker.exists() else 'unknown'


def to_half(module: torch.nn.Module) -> torch.nn.Module:
    return module.half()


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--src', type=Path, required=True, help='checkout of AIRI-Institute/HairFastGAN')
    weights = p.add_mutually_exclusive_group(required=True)
    weights.add_argument('--checkpoints', type=Path, help="the official pretrained_models directory (kind = official)")
    weights.add_argument('--random-weights', action='store_true', help='seeded random init (kind = random)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', type=Path, default=REPO_ROOT / 'models' / 'hairfast')
    p.add_argument('--only', type=str, default='', help='comma-separated graph names (default: all)')
    p.add_argument('--fp16', action='store_true', help='also write half-precision variants (<name>_fp16)')
    p.add_argument('--device', type=str, default='cpu', help='torch device used to trace (cpu, cuda, cuda:1)')
    p.add_argument('--opset', type=int, default=17)
    p.add_argument('--check', action='store_true', help='run each graph in onnxruntime-node and compare to torch')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    contract = load_contract()
    names = [n for n in args.only.split(',') if n] or list(contract['graphs'])
    unknown = [n for n in names if n not in contract['graphs']]
    if unknown:
        print(f"Expected graph names from {sorted(contract['graphs'])} for --only but received {unknown}", file=sys.stderr)
        return 2
    device = torch.device(args.device)
    kind = 'official' if args.checkpoints else 'random'
    official = Official(args.src, args.checkpoints, args.seed, device=str(device))
    builders = Builders(official)
    args.out.mkdir(parents=True, exist_ok=True)
    manifest_path = args.out / 'manifest.json'
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {'version': 1, 'models': {}}
    if any(m.get('kind') != kind for m in manifest['models'].values()):
        manifest = {'version': 1, 'models': {}}  # one kind per directory
    version = src_version(args.src)
    report = []
    for name in names:
        spec = contract['graphs'][name]
        t0 = time.time()
        module = builders.build(name).to(device).eval()
        inputs = tuple(t.to(device) for t in example_inputs(spec, seed=args.seed))
        variants = [('fp32', module, inputs)]
        if args.fp16:
            variants.append(('fp16', None, None))
        for precision, mod, inp in variants:
            if precision == 'fp16':
                mod = to_half(module)
                inp = tuple(t.half() if t.is_floating_point() else t for t in inputs)
            key = name if precision == 'fp32' else f'{name}_fp16'
            path = args.out / f'{key}.onnx'
            t_export = time.time()
            export_onnx(mod, inp, [s['name'] for s in spec['inputs']], [s['name'] for s in spec['outputs']], path,
                        opset=args.opset)
            export_s = time.time() - t_export
            stamp_output_shapes(path, spec)
            problems = contract_mismatches(path, spec, float_dtype='float32' if precision == 'fp32' else 'float16')
            if problems:
                print(f'{key}: does not match the contract: {problems}', file=sys.stderr)
                return 1
            model = onnx.load(str(path))
            entry = {
                'file': f'hairfast/{path.name}', 'sha256': sha256(path), 'bytes': path.stat().st_size, 'kind': kind,
                'source': {'package': 'AIRI-Institute/HairFastGAN', 'version': version,
                           'path': 'tools/hairfast-export/export.py', 'license': LICENSE},
                'opset': args.opset, 'precision': precision,
                'inputs': [dict(s, dtype='float16' if precision == 'fp16' and s['dtype'] == 'float32' else s['dtype'])
                           for s in spec['inputs']],
                'outputs': [dict(s, dtype='float16' if precision == 'fp16' and s['dtype'] == 'float32' else s['dtype'])
                            for s in spec['outputs']],
                'params': costs.params(model), 'gmac': round(costs.gmac(model), 3),
                'notes': f'{kind} weights (seed {args.seed})' if kind == 'random' else 'official checkpoints',
            }
            del model
            row = {'graph': key, 'bytes': entry['bytes'], 'params': entry['params'], 'gmac': entry['gmac'],
                   'export_s': round(export_s, 1)}
            if args.check:
                with torch.no_grad():
                    t_torch = time.time()
                    want = mod(*inp)
                    row['torch_cpu_s'] = round(time.time() - t_torch, 2)
                want = want if isinstance(want, tuple) else (want,)
                feeds = {s['name']: t.cpu().numpy() for s, t in zip(spec['inputs'], inp)}
                got, ms = run_ort(path, feeds)
                row['ort_cpu_ms'] = round(ms, 1)
                errs = []
                for s, w in zip(spec['outputs'], want):
                    if list(got[s['name']].shape) != list(s['shape']):
                        print(f"{key}: output {s['name']} has shape {list(got[s['name']].shape)}, contract {s['shape']}",
                              file=sys.stderr)
                        return 1
                    g = torch.from_numpy(got[s['name']]).to(w.dtype)
                    errs.append((g.float() - w.cpu().float()).abs().max().item())
                row['max_abs'] = max(errs)
                entry['notes'] += f"; export check max-abs {row['max_abs']:.3g} vs torch"
            manifest['models'][key] = entry
            manifest_path.write_text(json.dumps(manifest, indent=2) + '\n')
            print(json.dumps(row), flush=True)
            report.append(row)
        del module
        print(f'# {name}: {time.time() - t0:.1f}s', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())

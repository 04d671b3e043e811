#!/usr/bin/env python3
"""Export HairFastGAN as the ONNX graph split of src/pipeline/hairfast/graphs.contract.json.

  official weights:  export.py --src /path/HairFastGAN --checkpoints /path/HairFastGAN/pretrained_models
  random weights:    export.py --src /path/HairFastGAN --random-weights --seed 0
  options:           --only embed,bisenet  --fp16  --device cuda  --out models/hairfast  --check  --clip FILE

CLIP comes from where the official code takes it (clip.load("ViT-B/32") -> ~/.cache/clip/ViT-B-32.pt) or --clip.
Every checkpoint is loaded strictly (hairfast_export/checkpoints.py); a failure is `error[CODE]: message` + `fix:`
on stderr and {"event": "error", ...} on stdout, exit status 2. Progress and the keys no loader used are JSON
lines with an "event" field on stdout (what `hairstyler models import` renders).

Graphs are the contract's split graphs; with --composites (or --only swap) also its composites (`swap`: the
per-request graph over the same modules, with a symbolic batch dimension, traced at batch 2; over 2 GB, so its
weights go to swap.onnx.data). --fp16 covers both (swap_fp16: ~2.2 GB, also over 2 GB, in swap_fp16.onnx.data).

--fp16 converts each exported fp32 graph (to_fp16.py); it needs no half-precision kernels on the tracing device.

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
from hairfast_export.errors import ExportError, shorten  # noqa: E402
from hairfast_export.graphs import Builders, example_inputs  # noqa: E402
from hairfast_export.official import Official  # noqa: E402
from hairfast_export.fp16 import DEFAULT_LIMIT  # noqa: E402
from hairfast_export.onnx_io import (REPO_ROOT, contract_mismatches, export_onnx, feeds_of, load_contract,  # noqa: E402
                                     run_ort, sha256, stamp_output_shapes, symbolic_axes)
from hairfast_export.licenses import graph_licenses, license_summary  # noqa: E402
from hairfast_export.rows import emit  # noqa: E402
from to_fp16 import write_fp16_variant  # noqa: E402



def src_version(src: Path) -> str:
    try:
        return subprocess.run(['git', '-C', str(src), 'rev-parse', 'HEAD'], capture_output=True, text=True,
                              check=True).stdout.strip() or 'unknown'
    except Exception:  # a plain tarball export has no git metadata
        marker = src / '.hairfast-commit'
        return marker.read_text().strip() if marker.exists() else 'unknown'


def gpu_bench(mod, inp, device, repeats: int = 3) -> dict:
    """Torch forward on a CUDA device: median seconds and peak allocated memory (weights + activations)."""
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    times = []
    with torch.no_grad():
        for _ in range(repeats + 1):
            t0 = time.perf_counter()
            mod(*inp)
            torch.cuda.synchronize(device)
            times.append(time.perf_counter() - t0)
    times = sorted(times[1:])
    return {'gpu_ms': round(times[len(times) // 2] * 1000, 2),
            'gpu_peak_mib': round(torch.cuda.max_memory_allocated(device) / 2 ** 20, 1)}


def max_abs(spec: dict, got: dict, want: tuple) -> float:
    errs = []
    for s, w in zip(spec['outputs'], want):
        shape = list(got[s['name']].shape)
        if len(shape) != len(s['shape']) or any(isinstance(d, int) and d != g for d, g in zip(s['shape'], shape)):
            raise RuntimeError(f"output {s['name']} has shape {list(got[s['name']].shape)}, contract {s['shape']}")
        errs.append((torch.from_numpy(got[s['name']]).double() - w.detach().cpu().double()).abs().max().item())
    return max(errs)


def manifest_entry(name, spec, path: Path, data: Path | None, kind, version, args) -> tuple[dict, int]:
    """The manifest entry of an exported fp32 graph file (and its external weights file), and how many matrix/conv
    nodes its MAC count could not size."""
    # dims and shapes are all the costs read: a model over 2 GB is not loaded with its weights (onnx's shape
    # inference serialises the model, and protobuf stops at 2 GB)
    model = onnx.load(str(path), load_external_data=data is None)
    gmac, uncounted = costs.gmac_counted(model)
    licenses = graph_licenses(name, kind, seed=args.seed)
    entry = {
        'file': f'hairfast/{path.name}', 'sha256': sha256(path), 'bytes': path.stat().st_size, 'kind': kind,
        'source': {'package': 'AIRI-Institute/HairFastGAN', 'version': version,
                   'path': 'tools/hairfast-export/export.py', 'license': license_summary(licenses)},
        'licenses': licenses,
        'opset': args.opset, 'precision': 'fp32', 'inputs': spec['inputs'], 'outputs': spec['outputs'],
        'params': costs.params(model), 'gmac': round(gmac, 3),
        'notes': notes_for(kind, args),
    }
    if data is not None:
        # over 2 GB: the weights are in <file>.data next to it (onnxruntime reads it from the model's directory)
        entry['externalData'] = {'file': f'hairfast/{data.name}', 'sha256': sha256(data), 'bytes': data.stat().st_size}
        entry['notes'] += f'; weights in {data.name}'
    del model
    if uncounted:
        entry['notes'] += f'; gmac is a lower bound ({uncounted} matrix/conv nodes without inferred shapes)'
    return entry, uncounted


def export_graph(name, spec, builders, args, device, kind, version, manifest, manifest_path) -> list[dict]:
    t0 = time.time()
    module = builders.build(name).to(device).eval()
    inputs = tuple(t.to(device) for t in example_inputs(spec, seed=args.seed))
    path = args.out / f'{name}.onnx'
    row = {'graph': name, 'torch': torch.__version__, 'device': str(device)}
    if args.bench_gpu and device.type == 'cuda':
        row.update(gpu_bench(module, inputs, device))
    want = None
    if args.check:
        with torch.no_grad():
            t_torch = time.time()
            want = module(*inputs)
            row['torch_s'] = round(time.time() - t_torch, 2)
        want = tuple(w.float().cpu() for w in (want if isinstance(want, tuple) else (want,)))
    t_export = time.time()
    data = export_onnx(module, inputs, [s['name'] for s in spec['inputs']], [s['name'] for s in spec['outputs']], path,
                       opset=args.opset, dynamic_axes=symbolic_axes(spec))
    del module
    row['export_s'] = round(time.time() - t_export, 1)
    stamp_output_shapes(path, spec)
    problems = contract_mismatches(path, spec)
    if problems:
        raise ExportError('CONTRACT_MISMATCH', f'{name} does not match graphs.contract.json: {shorten(problems, 6)}',
                          'the official code at --src differs from the version the contract was written for; use the '
                          'pinned commit (hairstyler models import --download)', graph=name, problems=problems)
    entry, uncounted = manifest_entry(name, spec, path, data, kind, version, args)
    row.update({'bytes': entry['bytes'], 'params': entry['params'], 'gmac': entry['gmac'],
                'gmac_uncounted_nodes': uncounted})
    if want is not None:
        feeds = feeds_of(spec, inputs)
        got, ms = run_ort(path, feeds)
        row['ort_cpu_ms'] = round(ms, 1)
        row['max_abs'] = max_abs(spec, got, want)
        entry['notes'] += f"; export check: max-abs {row['max_abs']:.3g} vs torch"
    manifest['models'][name] = entry
    rows = [row]
    if args.fp16:
        # half precision is made from the fp32 graph (to_fp16.py), not traced: see hairfast_export/fp16.py
        rows.append(write_fp16_variant(name, spec, path, manifest, seed=args.seed, limit=args.fp16_limit,
                                       check=args.check))
    manifest_path.write_text(json.dumps(manifest, indent=2) + '\n')
    for r in rows:
        emit(r, args.report)
    print(f'# {name}: {time.time() - t0:.1f}s', flush=True)
    return rows


def notes_for(kind: str, args) -> str:
    if kind == 'official':
        return 'official checkpoints'
    if args.checkpoints:
        return f"random weights in the official checkpoint formats ({TREE_MARKER}: seed {args.tree['seed']})"
    return f'{kind} weights (seed {args.seed})'


TREE_MARKER = '.hairstyler-tree.json'  # written by official_tree.py: a tree of seeded random weights, not NVIDIA's


def tree_kind(checkpoints: Path | None) -> tuple[str, dict | None]:
    if not checkpoints:
        return 'random', None
    marker = checkpoints / TREE_MARKER
    if marker.is_file():
        tree = json.loads(marker.read_text())
        return tree.get('kind', 'random'), tree
    return 'official', None


def already_exported(out: Path, manifest: dict, name: str, fp16: bool) -> bool:
    variants = [name] + ([f'{name}_fp16'] if fp16 else [])
    for v in variants:
        entry = manifest['models'].get(v)
        path = out / Path(entry['file']).name if entry else None
        if not entry or not path.is_file() or path.stat().st_size != entry['bytes']:
            return False
        data = entry.get('externalData')
        if data and not ((out / Path(data['file']).name).is_file()
                         and (out / Path(data['file']).name).stat().st_size == data['bytes']):
            return False
    return True


def group_keys(keys: list[str]) -> dict[str, int]:
    """'state_dict/decoder.convs.0.conv.weight' -> 'state_dict/decoder.*': readable summaries of unconsumed keys."""
    groups: dict[str, int] = {}
    for k in keys:
        head, _, last = k.rpartition('/')
        g = (head + '/' if head else '') + (last.split('.')[0] + '.*' if '.' in last else last)
        groups[g] = groups.get(g, 0) + 1
    return groups


def event(name: str, **fields) -> None:
    print(json.dumps({"event": name, **fields}), flush=True)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--src', type=Path, required=True, help='checkout of AIRI-Institute/HairFastGAN')
    weights = p.add_mutually_exclusive_group(required=True)
    weights.add_argument('--checkpoints', type=Path, help="the official pretrained_models directory (kind = official)")
    weights.add_argument('--random-weights', action='store_true', help='seeded random init (kind = random)')
    p.add_argument('--clip', type=Path, help='the CLIP ViT-B/32 file (OpenAI ViT-B-32.pt; default: ~/.cache/clip/ViT-B-32.pt, '
                   'where clip.load("ViT-B/32") in the official code keeps it)')
    p.add_argument('--keys-only', action='store_true', help='build every graph\'s official networks from --checkpoints '
                   '(strict loading, key accounting) and export nothing: the full "unconsumed" report on its own')
    p.add_argument('--resume', action='store_true', help='keep graphs already in --out (manifest entry of this kind, file '
                   'of the listed size; with --fp16 both variants) instead of exporting them again')
    p.add_argument('--traceback', action='store_true', help='on an unexpected failure, print the Python traceback too')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', type=Path, default=REPO_ROOT / 'models' / 'hairfast')
    p.add_argument('--only', type=str, default='', help='comma-separated graph names (default: all)')
    p.add_argument('--composites', action='store_true',
                   help='also export the composites (swap: ~4.3 GB fp32 in swap.onnx.data) after the split graphs; '
                   '`--only swap` exports it alone')
    p.add_argument('--fp16', action='store_true', help='also write half-precision variants (<name>_fp16, to_fp16.py)')
    p.add_argument('--fp16-limit', type=float, default=DEFAULT_LIMIT,
                   help='--fp16: nodes whose tensors exceed this magnitude on the example inputs stay float32')
    p.add_argument('--device', type=str, default='cpu', help='torch device used to trace (cpu, cuda, cuda:1)')
    p.add_argument('--opset', type=int, default=17)
    p.add_argument('--check', action='store_true', help='run each graph in onnxruntime (CPU) and compare: fp32 to torch, '
                   'fp16 to fp32')
    p.add_argument('--bench-gpu', action='store_true', help='on CUDA: torch forward time and peak memory per graph')
    p.add_argument('--keep-going', action='store_true', help='report a failing graph and go on with the next')
    p.add_argument('--report', type=Path, help='append one JSON line per exported file here')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except ExportError as e:
        event('error', **{k: v for k, v in e.event().items() if k != 'event'})
        print(e.render(), file=sys.stderr, flush=True)
        return 2


def run(args) -> int:
    contract = load_contract()
    specs = {**contract['graphs'], **contract.get('composites', {})}
    names = [n for n in args.only.split(',') if n] or list(contract['graphs']) + (
        list(contract.get('composites', {})) if args.composites else [])
    unknown = [n for n in names if n not in specs]
    if unknown:
        print(f"Expected graph names from {sorted(specs)} for --only but received {unknown}", file=sys.stderr)
        return 2
    device = torch.device(args.device)
    kind, args.tree = tree_kind(args.checkpoints)
    official = Official(args.src, args.checkpoints, args.seed, device=str(device), clip=args.clip)
    builders = Builders(official)
    args.out.mkdir(parents=True, exist_ok=True)
    manifest_path = args.out / 'manifest.json'
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {'version': 1, 'models': {}}
    if any(m.get('kind') != kind for m in manifest['models'].values()):
        manifest = {'version': 1, 'models': {}}  # one kind per directory
    version = src_version(args.src)
    report: list[dict] = []
    failed = []
    event('start', graphs=names, kind=kind, fp16=bool(args.fp16))
    started = time.time()
    for i, name in enumerate(names):
        if args.resume and already_exported(args.out, manifest, name, args.fp16):
            entry = manifest['models'][name]
            event('graph_done', graph=name, index=i, total=len(names), seconds=0.0, bytes=entry['bytes'],
                  elapsed_s=round(time.time() - started, 1), resumed=True)
            continue
        event('graph', graph=name, index=i, total=len(names), elapsed_s=round(time.time() - started, 1))
        t0 = time.time()
        if args.keys_only:
            builders.build(name)
            continue
        try:
            rows = export_graph(name, specs[name], builders, args, device, kind, version, manifest, manifest_path)
            report.extend(rows)
        except ExportError:
            raise
        except Exception as e:  # noqa: BLE001 - typed, and fatal unless --keep-going
            failed.append(name)
            if args.traceback:
                import traceback
                traceback.print_exc()
            err = ExportError('EXPORT_FAILED', f'exporting {name} failed: {type(e).__name__}: {str(e)[:1500]}',
                              'rerun export.py with --only ' + name + ' --traceback and report the output', graph=name)
            if not args.keep_going:
                raise err from None
            event('graph_failed', graph=name, code=err.code, message=err.message)
            continue
        entry = manifest['models'][name]
        event('graph_done', graph=name, index=i, total=len(names), seconds=round(time.time() - t0, 1),
              bytes=entry['bytes'] + (manifest['models'].get(f'{name}_fp16', {}).get('bytes', 0) if args.fp16 else 0),
              elapsed_s=round(time.time() - started, 1))
    if official.ck:
        unused = official.ck.unconsumed()
        unread = official.ck.unread()
        event('unconsumed', files={rel: keys for rel, keys in unused.items()},
              groups={rel: group_keys(keys) for rel, keys in unused.items()}, unread=unread)
        if unread:
            print(f'# not read (these graphs need nothing from them): {", ".join(unread)}', file=sys.stderr)
        for rel, keys in unused.items():
            print(f'# not consumed: {rel}: {len(keys)} key(s): '
                  + ', '.join(f'{g} ({n})' for g, n in group_keys(keys).items()), file=sys.stderr)
    if failed:
        print(f'# failed: {failed}', file=sys.stderr)
        return 1
    event('done', graphs=len(names), seconds=round(time.time() - started, 1))
    return 0


if __name__ == '__main__':
    sys.exit(main())

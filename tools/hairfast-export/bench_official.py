#!/usr/bin/env python3
"""The official `hair_swap.HairFast.swap`, warm, timed: built once over the seeded random networks the export used
(parity.build_official), then called --warmup times untimed and --runs times timed on the same three images.

  bench_official.py --src /tmp/hairfast-src --seed 0 [--tree DIR] [--images DIR] [--runs 3] [--warmup 1] [--device cpu|cuda]

--tree: an official-format tree (pretrained_models/, clip/, torch-hub/; e.g. official_tree.py's random weights) that
the official HairFast constructor reads (CPU only), so the official side has the weights an export of that tree has.

--images DIR holds face.png, shape.png and color.png (1024² aligned, what bench/compare.bench.ts writes from the
images its own requests use); without it the seeded parity images (parity.mode_images) are used. Prints progress on
stderr and one JSON object on the last stdout line: runs_ms, p50_ms, p95_ms, build_s, device, torch, threads and, on
CUDA, peak_allocated_mib (torch.cuda.max_memory_allocated).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import parity  # noqa: E402


def percentile(xs: list[float], q: float) -> float:
    """Nearest-rank percentile (what bench/compare.bench.ts prints too)."""
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, int(np.ceil(q / 100 * len(s))) - 1))]


def read_images(folder: Path):
    from PIL import Image
    out = []
    for role in ('face', 'shape', 'color'):
        rgb = np.asarray(Image.open(folder / f'{role}.png').convert('RGB'), dtype=np.uint8)
        out.append(torch.from_numpy(rgb.copy()).permute(2, 0, 1).float() / 255)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--src', type=Path, required=True, help='checkout of AIRI-Institute/HairFastGAN')
    p.add_argument('--seed', type=int, default=0, help="the export's seed (same random weights)")
    p.add_argument('--tree', type=Path, help='official-format tree for the official constructor (CPU; default: seeded init)')
    p.add_argument('--images', type=Path, help='folder with face.png, shape.png, color.png')
    p.add_argument('--runs', type=int, default=3)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--device', default='cpu')
    p.add_argument('--threads', type=int, default=0, help='CPU threads for torch (default: every core, as onnxruntime '
                   'uses; Debian torch 1.13 starts with 1 OpenMP thread here, which would halve the official side)')
    args = p.parse_args(argv)
    torch.set_grad_enabled(False)
    torch.set_num_threads(args.threads or len(os.sched_getaffinity(0)))
    t0 = time.time()
    refs = parity.References(args.src, args.seed, tree=args.tree, device=args.device)
    hf = parity.build_official(refs, args.device)
    build_s = time.time() - t0
    images = read_images(args.images) if args.images else list(parity.mode_images('both', args.seed, eight_bit=True))
    cuda = args.device.startswith('cuda')

    def swap() -> float:
        if cuda:
            torch.cuda.synchronize()
        started = time.perf_counter()
        with parity.cwd(parity.swap_dir(refs)):
            hf.swap(*images)
        if cuda:
            torch.cuda.synchronize()
        return (time.perf_counter() - started) * 1000

    for i in range(args.warmup):
        print(f'official warm-up {i + 1}/{args.warmup}: {swap():.0f} ms', file=sys.stderr, flush=True)
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    runs = []
    for i in range(args.runs):
        runs.append(swap())
        print(f'official run {i + 1}/{args.runs}: {runs[-1]:.0f} ms', file=sys.stderr, flush=True)
    row = {'device': args.device, 'torch': torch.__version__, 'threads': torch.get_num_threads(), 'build_s': round(build_s, 1),
           'warmup': args.warmup, 'runs_ms': [round(r, 1) for r in runs], 'p50_ms': round(percentile(runs, 50), 1),
           'p95_ms': round(percentile(runs, 95), 1), 'weights': f'tree {args.tree}' if args.tree else f'seed {args.seed}', 'images': str(args.images) if args.images else 'parity.mode_images(both)'}
    if cuda:
        row['gpu'] = torch.cuda.get_device_name(0)
        row['peak_allocated_mib'] = round(torch.cuda.max_memory_allocated() / 2 ** 20)
    print(json.dumps(row))
    return 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python3
"""Render the exporter's JSON lines as markdown tables (for docs/parity.md and docs/hairfast-graphs.md).

  report.py parity PARITY.jsonl      -> per-graph parity table
  report.py graphs MANIFEST.json [ROWS.jsonl ...] -> sizes / params / GMAC / times table
  report.py memory MANIFEST.json    -> weights + activation peak per graph, fp32 and fp16, and the totals
  report.py fp16 ROWS.jsonl         -> to_fp16.py rows: nodes kept at fp32, error vs the fp32 graph
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def parity_table(path: Path) -> str:
    rows = {}
    for line in path.read_text().splitlines():
        r = json.loads(line)
        rows[r['graph']] = r  # the last run of a graph wins
    out = ['| graph | output | max abs error | largest reference value | official CPU s | ORT CPU ms |',
           '| --- | --- | --- | --- | --- | --- |']
    for g, r in rows.items():
        for name, o in r['outputs'].items():
            labels = o.get('mismatched_labels', o.get('mismatched_pixels'))  # older parity rows: mismatched_pixels
            if labels is not None:
                err, ref = f"{labels} of {o['of']} labels differ", 'labels'
            else:
                err, ref = f"{o['max_abs']:.3g}", f"{o['ref_max_abs_value']:.3g}"
            out.append(f"| {g} | {name} | {err} | {ref} | {r['official_cpu_s']} | {r['ort_cpu_ms']} |")
    return '\n'.join(out)


def graphs_table(manifest_path: Path, row_paths: list[Path]) -> str:
    manifest = json.loads(manifest_path.read_text())['models']
    rows = {}
    for p in row_paths:
        for line in p.read_text().splitlines():
            r = json.loads(line)
            if 'graph' in r and 'error' not in r:
                rows[r['graph']] = r
    out = ['| graph | file MB | params (M) | GMAC | export s | torch CPU s | ORT CPU ms | export check max-abs |',
           '| --- | --- | --- | --- | --- | --- | --- | --- |']
    total_bytes = total_params = 0
    for key, e in sorted(manifest.items()):
        r = rows.get(key, {})
        total_bytes += e['bytes']
        total_params += e.get('params', 0)
        check = r.get('max_abs')
        lower = '≥ ' if r.get('gmac_uncounted_nodes') or 'lower bound' in e.get('notes', '') else ''
        out.append(f"| {key} | {e['bytes'] / 1e6:.1f} | {e.get('params', 0) / 1e6:.2f} | {lower}{e.get('gmac', 0):.1f} | "
                   f"{r.get('export_s', '')} | {r.get('torch_s', r.get('torch_cpu_s', ''))} | {r.get('ort_cpu_ms', '')} | "
                   f"{'' if check is None else f'{check:.3g}'} |")
    out.append(f'| **total** | {total_bytes / 1e6:.0f} | {total_params / 1e6:.1f} | | | | | |')
    return '\n'.join(out)


def memory_table(manifest_path: Path) -> str:
    """Per-graph weights (initializers) and activation peak (fp16.probe shapes, costs.activation_peak_bytes)."""
    models = json.loads(manifest_path.read_text())['models']
    mb = lambda b: f'{b / 2 ** 20:.0f}'  # noqa: E731
    out = ['| graph | fp32 weights MiB | fp32 activations MiB | fp16 weights MiB | fp16 activations MiB |',
           '| --- | --- | --- | --- | --- |']
    totals = {p: {'w': 0, 'a_sum': 0, 'a_max': 0} for p in ('fp32', 'fp16')}
    for name in sorted(k for k in models if not k.endswith('_fp16')):
        cells = []
        for key, precision in ((name, 'fp32'), (f'{name}_fp16', 'fp16')):
            e = models.get(key, {})
            w, a = e.get('weightBytes'), e.get('activationBytes')
            cells += [mb(w) if w is not None else '', mb(a) if a is not None else '']
            t = totals[precision]
            t['w'] += w or 0
            t['a_sum'] += a or 0
            t['a_max'] = max(t['a_max'], a or 0)
        out.append(f"| {name} | {' | '.join(cells)} |")
    t32, t16 = totals['fp32'], totals['fp16']
    out.append(f"| **all weights** | {mb(t32['w'])} | | {mb(t16['w'])} | |")
    out.append(f"| **largest activation peak** | | {mb(t32['a_max'])} | | {mb(t16['a_max'])} |")
    out.append(f"| **sum of activation peaks** | | {mb(t32['a_sum'])} | | {mb(t16['a_sum'])} |")
    return '\n'.join(out)


def fp16_table(path: Path) -> str:
    rows = {}
    for line in path.read_text().splitlines():
        r = json.loads(line)
        if 'vs_fp32' in r:
            rows[r['graph']] = r
    out = ['| graph | nodes fp16 / kept fp32 | output | fp16 vs fp32 (GPU-like) | shipped file on ORT CPU | ORT CPU ms fp32 / fp16 |',
           '| --- | --- | --- | --- | --- | --- |']

    def err(o):
        if 'mismatched_labels' in o:
            return f"{o['mismatched_labels']} of {o['of']} labels"
        return f"{o['max_abs']:.3g}" + ('' if o['finite'] else ' (not finite)')
    for g, r in sorted(rows.items()):
        for name, o in r['vs_fp32'].items():
            out.append(f"| {g} | {r['fp16_nodes']} / {r['fp32_nodes']} | {name} | {err(o)} | "
                       f"{err(r['shipped_file_vs_fp32'][name])} | {r['ort_cpu_ms_fp32']} / {r['ort_cpu_ms_fp16']} |")
    return '\n'.join(out)


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == 'memory':
        print(memory_table(Path(argv[1])))
        return 0
    if len(argv) >= 2 and argv[0] == 'fp16':
        print(fp16_table(Path(argv[1])))
        return 0
    if len(argv) >= 2 and argv[0] == 'parity':
        print(parity_table(Path(argv[1])))
        return 0
    if len(argv) >= 2 and argv[0] == 'graphs':
        print(graphs_table(Path(argv[1]), [Path(p) for p in argv[2:]]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Render the exporter's JSON lines as markdown tables (for docs/parity.md and docs/hairfast-graphs.md).

  report.py parity PARITY.jsonl      -> per-graph parity table
  report.py graphs MANIFEST.json [ROWS.jsonl ...] -> sizes / params / GMAC / times table, fp32 + fp16 memory
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
            if 'mismatched_pixels' in o:
                err, ref = f"{o['mismatched_pixels']} of {o['of']} labels differ", 'labels'
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


def main(argv: list[str]) -> int:
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

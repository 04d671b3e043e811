"""Each graph's upstream licenses for its manifest entry, from src/model-build/upstream-licenses.json.

That file is generated (`npm run licenses:json`) from the official files table, src/model-build/official-files.ts,
the one place the parts, their licenses and the graphs they feed are written down.
"""
from __future__ import annotations

import json
from pathlib import Path

from .onnx_io import REPO_ROOT

LICENSES_PATH = REPO_ROOT / 'src' / 'model-build' / 'upstream-licenses.json'


def load_table(path: Path = LICENSES_PATH) -> dict:
    return json.loads(path.read_text())


def graph_licenses(name: str, kind: str, seed: int | None = None, table: dict | None = None) -> list[dict]:
    """The `licenses` of graph `name` (fp32 name). Random weights carry none of the upstream weights, so only the
    code's terms apply: `use` becomes the part's code use and `weights` says what the weights are."""
    table = table or load_table()
    if name not in table['graphs']:
        raise KeyError(f'Expected a graph of {LICENSES_PATH.name} for name but received {name!r}')
    licenses = [dict(entry) for entry in table['graphs'][name]]
    if kind == 'random':
        for entry in licenses:
            entry['weights'] = f'random init (seed {seed}): no upstream weights'
            entry['use'] = table['codeUse'][entry['part']]
    return licenses


def license_summary(licenses: list[dict]) -> str:
    """The manifest's one-line `source.license`: the strictest terms first."""
    restricted = [f"{e['part']}: {e['use']}" for e in licenses if e['use'] != 'open']
    return 'open licenses only (MIT/BSD)' if not restricted else 'restricted: ' + ', '.join(restricted)

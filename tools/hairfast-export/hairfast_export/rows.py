"""Result rows of the tools: one JSON object per line on stdout, and appended to a report file when one is given."""
from __future__ import annotations

import json
from pathlib import Path


def emit(row: dict, report: Path | None = None) -> None:
    line = json.dumps(row)
    print(line, flush=True)
    if report:
        with open(report, 'a') as f:
            f.write(line + '\n')

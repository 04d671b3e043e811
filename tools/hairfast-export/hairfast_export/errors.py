"""Typed failures of the exporter: a stable code, a message naming the file/keys, and the fix.

`export.py` turns an ExportError into one JSON event on stdout ({"event": "error", ...}, read by
`hairstyler models import`) and `error[CODE]: message` + `  fix: ...` on stderr, exit status 2 — never a traceback.
Codes are stable: they are tested and rendered by the CLI (src/shared/errors.ts has the same names).
"""
from __future__ import annotations

CODES = (
    'CHECKPOINT_MISSING',     # a file the loaders read is not in --checkpoints
    'CHECKPOINT_UNREADABLE',  # not a torch file, or truncated
    'CHECKPOINT_UNSAFE',      # the pickle names a class outside the allowlist (checkpoints.py)
    'CHECKPOINT_KEYS',        # missing / unexpected keys, or a nested key that is not there
    'CHECKPOINT_SHAPES',      # right keys, wrong tensor shapes (another architecture or size)
    'CLIP_MISSING',           # no ViT-B-32.pt at --clip / ~/.cache/clip
    'CLIP_UNSUPPORTED',       # the blending checkpoint's 'clip' names a CLIP model the graphs are not built for
    'SRC_INVALID',            # --src is not a HairFastGAN checkout
    'CONTRACT_MISMATCH',      # an exported graph does not match graphs.contract.json
    'EXPORT_FAILED',          # anything else while exporting one graph (names the graph and the exception)
)


class ExportError(Exception):
    def __init__(self, code: str, message: str, fix: str, **details):
        assert code in CODES, code
        super().__init__(f'{code}: {message}')
        self.code, self.message, self.fix, self.details = code, message, fix, details

    def event(self) -> dict:
        return {'event': 'error', 'code': self.code, 'message': self.message, 'fix': self.fix, **self.details}

    def render(self) -> str:
        return f'error[{self.code}]: {self.message}\n  fix: {self.fix}'


def shorten(items, limit: int = 12) -> str:
    """`a, b, c … (+N more)`: lists of keys in messages stay readable; events carry the full lists."""
    items = list(items)
    head = ', '.join(items[:limit])
    return head + (f' … (+{len(items) - limit} more)' if len(items) > limit else '')

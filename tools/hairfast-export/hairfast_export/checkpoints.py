"""Reading the official checkpoints strictly, and accounting for every key.

- `Checkpoints.load(rel)` reads `<pretrained_models>/<rel>` with `torch.load(weights_only=True)` first. Why explicit:
  torch 1.13 (Debian, here) defaults to `weights_only=False`, i.e. full unpickling that can run code from the file;
  torch >= 2.6 defaults to True and refuses checkpoints holding non-tensor objects. Neither default may decide what
  this tool accepts. A file that the weights-only unpickler refuses (e.g. one holding an `argparse.Namespace` of
  training options) is read again with `RestrictedUnpickler`: tensors, containers, numbers, strings and a short
  allowlist of plain data classes; any other class is CHECKPOINT_UNSAFE naming it.
- `load_strict(module, state, ...)` loads a state dict into an official module and fails on any missing or unexpected
  key (CHECKPOINT_KEYS, naming them) or shape mismatch (CHECKPOINT_SHAPES). torch's own bookkeeping is used
  (`load_state_dict(strict=False)` returns both lists), so BatchNorm's version handling stays torch's.
- Every key of every file read is recorded; `unconsumed()` lists what no loader used (optimizer states, the
  discriminators, CLIP's text tower, …) so nothing is dropped silently.
"""
from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import torch
from torch import nn

from .errors import ExportError, shorten

OFFICIAL_SOURCE = 'the official HairFastGAN pretrained_models (its model hub page, linked from its README)'
CLIP_URL = ('https://openaipublic.azureedge.net/clip/models/'
            '40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af/ViT-B-32.pt')  # clip/clip.py _MODELS
# where clip.load("ViT-B/32") keeps its download (clip/clip.py: download_root = ~/.cache/clip, file = URL basename)
CLIP_CACHE = Path(os.path.expanduser('~/.cache/clip'))
SUPPORTED_CLIP = 'ViT-B/32'

# plain data classes the restricted unpickler accepts besides tensors (training options, numpy scalars)
ALLOWED_GLOBALS = {
    ('collections', 'OrderedDict'), ('argparse', 'Namespace'), ('torch', 'Size'), ('torch', 'device'),
    ('torch._utils', '_rebuild_tensor_v2'), ('torch._utils', '_rebuild_parameter'),
    ('torch._utils', '_rebuild_parameter_with_state'), ('numpy.core.multiarray', 'scalar'),
    ('numpy.core.multiarray', '_reconstruct'), ('numpy', 'dtype'), ('numpy', 'ndarray'),
}
ALLOWED_MODULE_PREFIXES = ('torch',)  # torch.*Storage and dtypes (torch.float32 …) are resolved by torch.load itself


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in ALLOWED_GLOBALS or (module == 'torch' and name.endswith('Storage')) or (
                module == 'torch' and isinstance(getattr(torch, name, None), torch.dtype)):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f'class {module}.{name} is not allowed')


class RestrictedUnpickler:
    """A `pickle_module` for torch.load: its Unpickler resolves only ALLOWED_GLOBALS (torch subclasses it)."""
    Unpickler = _Unpickler
    load = staticmethod(lambda f, **k: _Unpickler(f, **k).load())


def flatten(obj, prefix: str = '') -> list[str]:
    """Keys of nested string-keyed dicts as 'a/b/c' paths ('model_state_dict/fc.weight': state dict keys keep their
    dots). A dict with non-string keys (an optimizer's state) or any other value is one leaf; a bare tensor file is ''."""
    if isinstance(obj, dict) and obj and all(isinstance(k, str) for k in obj):
        return [key for k, v in obj.items() for key in flatten(v, f'{prefix}{k}/')]
    return [prefix[:-1]] if prefix else ['']


class Checkpoints:
    """The official `pretrained_models/` directory (and the CLIP file), read strictly with key accounting."""

    def __init__(self, root: Path, clip_file: Path | None = None):
        self.root = Path(root)
        self.clip_file = Path(clip_file) if clip_file else CLIP_CACHE / 'ViT-B-32.pt'
        self.keys: dict[str, list[str]] = {}
        self.used: dict[str, set[str]] = {}
        self._cache: dict[str, object] = {}

    # --- reading
    def path(self, rel: str) -> Path:
        return self.root / rel

    def load(self, rel: str):
        if rel in self._cache:
            return self._cache[rel]
        path = self.path(rel)
        if not path.is_file():
            raise ExportError('CHECKPOINT_MISSING', f'{path} does not exist',
                              f'put {rel} from {OFFICIAL_SOURCE} under {self.root}', file=rel)
        obj = read_torch_file(path, rel)
        self._cache[rel] = obj
        self.keys[rel] = flatten(obj) if isinstance(obj, dict) else ['']
        self.used.setdefault(rel, set())
        return obj

    def get(self, rel: str, *path: str, consume: bool = True):
        """A nested value, marked consumed unless `consume=False` (a loader that uses only part of it marks that
        part). A key that is not there is CHECKPOINT_KEYS naming what is."""
        obj = self.load(rel)
        for i, k in enumerate(path):
            if not isinstance(obj, dict) or k not in obj:
                have = sorted(map(str, obj)) if isinstance(obj, dict) else type(obj).__name__
                raise ExportError('CHECKPOINT_KEYS', f"{rel}: no key '{'/'.join(path[:i + 1])}' (has: {have})",
                                  f'{rel} is not the official file; replace it from {OFFICIAL_SOURCE}', file=rel,
                                  missing=['/'.join(path[:i + 1])])
            obj = obj[k]
        if consume:
            self.mark(rel, '/'.join(path))
        return obj

    def mark(self, rel: str, *keys: str) -> None:
        """Marks keys (or whole subtrees: a key that is a prefix of recorded paths) as consumed."""
        known = self.keys.get(rel, [])
        used = self.used.setdefault(rel, set())
        for key in keys:
            used.update(k for k in known if k == key or k.startswith(key + '/') or key == '')

    # --- strict loading
    def load_strict(self, module: nn.Module, state: dict, rel: str, at: str, what: str,
                    optional_missing: tuple[str, ...] = ()) -> nn.Module:
        """Loads `state` (found at rel:/at) into `module`; any missing key outside `optional_missing` prefixes, any
        unexpected key or a shape mismatch is an ExportError naming them."""
        if not isinstance(state, dict):
            raise ExportError('CHECKPOINT_KEYS', f'{rel}:{at or "/"} is a {type(state).__name__}, not a state dict',
                              f'{rel} is not the official file; replace it from {OFFICIAL_SOURCE}', file=rel)
        own = module.state_dict()
        shapes = [f'{k} {tuple(v.shape)} (expected {tuple(own[k].shape)})' for k, v in state.items()
                  if k in own and isinstance(v, torch.Tensor) and tuple(v.shape) != tuple(own[k].shape)]
        if shapes:
            raise ExportError('CHECKPOINT_SHAPES', f'{rel}:{at or "/"} does not fit {what}: {len(shapes)} tensor(s) of '
                              f'another shape: {shorten(shapes, 6)}',
                              f'{rel} is from another model or size; use the official file from {OFFICIAL_SOURCE}',
                              file=rel, shapes=shapes)
        result = module.load_state_dict(state, strict=False)
        missing = [k for k in result.missing_keys if not k.startswith(optional_missing)]
        unexpected = list(result.unexpected_keys)
        if missing or unexpected:
            parts = ([f'{len(missing)} missing: {shorten(missing)}'] if missing else []) + (
                [f'{len(unexpected)} unexpected: {shorten(unexpected)}'] if unexpected else [])
            raise ExportError('CHECKPOINT_KEYS', f'{rel}:{at or "/"} does not fit {what}: ' + '; '.join(parts),
                              f'{rel} is not the official file (or is from another version); replace it from '
                              f'{OFFICIAL_SOURCE}', file=rel, missing=missing, unexpected=unexpected)
        prefix = at if not at or at.endswith('.') else f'{at}/'  # 'state_dict/encoder.' + key, 'g_ema/' + key
        self.mark(rel, *[prefix + k for k in state])
        return module

    # --- CLIP (read like clip.load: a TorchScript archive, else a plain state dict)
    def clip_state(self) -> dict:
        rel = 'clip:' + self.clip_file.name
        if rel in self._cache:
            return self._cache[rel]
        path = self.clip_file
        if not path.is_file():
            raise ExportError('CLIP_MISSING', f'no CLIP ViT-B/32 file at {path} (the official code takes it from '
                              f'clip.load("ViT-B/32"), i.e. {CLIP_CACHE / "ViT-B-32.pt"})',
                              f'pass --clip FILE, or put OpenAI\'s ViT-B-32.pt ({CLIP_URL}) at {CLIP_CACHE}/',
                              file=str(path))
        try:
            sd = torch.jit.load(str(path), map_location='cpu').state_dict()
        except (RuntimeError, ValueError):
            sd = read_torch_file(path, rel)
        if not isinstance(sd, dict) or not any(str(k).startswith('visual.') for k in sd):
            raise ExportError('CHECKPOINT_KEYS', f'{path} holds no visual.* tensors (not a CLIP model)',
                              f'pass --clip with OpenAI\'s ViT-B-32.pt ({CLIP_URL})', file=str(path))
        self._cache[rel] = dict(sd)
        self.keys[rel] = list(sd)
        self.used.setdefault(rel, set())
        return self._cache[rel]

    # --- accounting
    def unread(self) -> list[str]:
        """Files under the tree that no loader read (e.g. ArcFace inits the official constructors overwrite)."""
        return sorted(str(p.relative_to(self.root)) for p in self.root.rglob('*')
                      if p.is_file() and not p.name.startswith('.') and str(p.relative_to(self.root)) not in self.keys)

    def unconsumed(self) -> dict[str, list[str]]:
        return {rel: [k for k in keys if k not in self.used.get(rel, set())] for rel, keys in self.keys.items()
                if any(k not in self.used.get(rel, set()) for k in keys)}


def _load_restricted(path: Path):
    """torch.load's own readers with RestrictedUnpickler. Not `torch.load(pickle_module=...)`: torch 1.13 replaces
    any pickle_module by `pickle` when weights_only is False (a test shows the code in such a file would run).
    torch >= 2.4 has a public way: weights_only=True with the allowlist as safe globals."""
    ser = torch.serialization
    if hasattr(ser, 'safe_globals'):
        import importlib
        classes = [getattr(importlib.import_module(m), n) for m, n in ALLOWED_GLOBALS if not m.startswith('torch')]
        with ser.safe_globals(classes):
            return torch.load(str(path), map_location='cpu', weights_only=True)
    with open(path, 'rb') as f:
        if ser._is_zipfile(f):
            with ser._open_zipfile_reader(f) as zf:
                return ser._load(zf, 'cpu', RestrictedUnpickler, encoding='utf-8')
        return ser._legacy_load(f, 'cpu', RestrictedUnpickler, encoding='utf-8')


def read_torch_file(path: Path, rel: str):
    try:
        try:
            return torch.load(str(path), map_location='cpu', weights_only=True)
        except pickle.UnpicklingError:
            # weights-only refused a class: read again, allowing only plain data classes (module docstring)
            return _load_restricted(path)
    except pickle.UnpicklingError as e:
        raise ExportError('CHECKPOINT_UNSAFE', f'{path}: {e}; refusing to unpickle it',
                          f'{rel} is not the official file; replace it from {OFFICIAL_SOURCE}', file=rel) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as e:
        size = path.stat().st_size if path.exists() else 0
        raise ExportError('CHECKPOINT_UNREADABLE', f'{path} ({size} bytes) cannot be read: '
                          f'{str(e).splitlines()[0][:300]}',
                          f'the file is truncated or not a torch checkpoint; download {rel} again from '
                          f'{OFFICIAL_SOURCE}', file=rel) from None

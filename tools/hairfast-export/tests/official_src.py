"""Where tests find the official HairFastGAN code: $HAIRFAST_SRC (a checkout), else the bare mirror of this workplace
(`git archive` into a temporary directory once per run). Never copied into the repository."""
import os
import subprocess
import tempfile
from pathlib import Path

MIRROR = Path('/work/.mirror/AIRI-Institute+HairFastGAN/repo')
_cached: list[Path] = []


def official_src() -> Path | None:
    if os.environ.get('HAIRFAST_SRC'):
        return Path(os.environ['HAIRFAST_SRC'])
    if _cached:
        return _cached[0]
    if not MIRROR.is_dir():
        return None
    out = Path(tempfile.mkdtemp(prefix='hairfast-src-'))
    archive = subprocess.run(['git', f'--git-dir={MIRROR}', 'archive', 'HEAD'], check=True, capture_output=True).stdout
    subprocess.run(['tar', '-x', '-C', str(out)], input=archive, check=True)
    _cached.append(out)
    return out

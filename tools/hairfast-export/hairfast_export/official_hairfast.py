"""The official `hair_swap.HairFast`, built by its own constructor from a `pretrained_models/` tree on the CPU.

`HairFast(get_parser().parse_args(['--device', 'cpu']))` runs in a working directory holding the official checkout
with `pretrained_models/` linked to the tree, so every file is opened by the official code itself at the path it
uses (Net.load_weights, FaceParsing_tensor.parsing_img, FSencoder.get_trainer, setup_model, Pix2PixModel,
Alignment, Blending, PostProcessModel). What is adjusted, and why:
- CPU instead of CUDA: `Tensor.cuda`/`Module.cuda` are the identity, `torch.load(map_location='cuda')` maps to the
  CPU, SEAN_OPT.gpu_ids = [] and FeatureStyleEncoder's config device = 'cpu' (both would call .cuda()),
  utils.bicubic.BicubicDownSample defaults to cuda=False (it casts its filters to torch.cuda.FloatTensor); the
  rest as parity.patch_official_for_cpu (randn on the CPU, int nearest resize through float, fixed noise).
- The StyleGAN2 CUDA ops (compiled at import) are hairfast_export.ops in plain torch (tested against the formulas).
- The `clip` package is not installable here: `clip.load(name)` is a small reader of the same file clip.load reads,
  `~/.cache/clip/<name with / as ->.pt` (a TorchScript archive; its visual.* weights into clip_vit.VisionTransformer,
  CLIP's own architecture with its state-dict names), failing where clip.load would download.
- torchvision's resnet18 (both BiSeNets' init, overwritten by their checkpoints) comes from torch hub's cache:
  TORCH_HOME points at the tree's `torch-hub/`, where official_tree.py puts a random one.
"""
from __future__ import annotations

import os
import sys
import tempfile
import types
from pathlib import Path

import torch
from torch import nn

from .clip_vit import VisionTransformer
from .official import check_src, install_stubs


def clip_module() -> types.ModuleType:
    mod = types.ModuleType('clip')

    def load(name='ViT-B/32', device='cpu', jit=False, download_root=None):
        root = Path(download_root or os.path.expanduser('~/.cache/clip'))
        path = root / (name.replace('/', '-') + '.pt')
        if not path.is_file():
            raise RuntimeError(f'clip.load({name!r}): {path} does not exist (clip.load would download it here)')
        sd = torch.jit.load(str(path), map_location='cpu').state_dict()
        model = nn.Module()
        model.visual = VisionTransformer()
        model.visual.load_state_dict({k[len('visual.'):]: v.float() for k, v in sd.items() if k.startswith('visual.')})
        model.encode_image = lambda image: model.visual(image.float())
        return model.float().eval(), None

    mod.load = load
    return mod


def patch_for_cpu() -> None:
    nn.Module.cuda = lambda self, *a, **k: self
    real_load = torch.load

    def load(f, map_location=None, *a, **k):
        if isinstance(map_location, (str, torch.device)) and str(map_location).startswith('cuda'):
            map_location = 'cpu'
        return real_load(f, map_location, *a, **k)

    torch.load = load


def workdir(src: Path, tree: Path) -> Path:
    """A directory with the checkout's entries linked in and pretrained_models/ linked to the tree."""
    d = Path(tempfile.mkdtemp(prefix='hairfast-official-'))
    for entry in Path(src).iterdir():
        if entry.name != 'pretrained_models':
            (d / entry.name).symlink_to(entry.resolve())
    (d / 'pretrained_models').symlink_to((Path(tree) / 'pretrained_models').resolve())
    return d


def construct_hairfast(src: Path, tree: Path, clip_file: Path | None = None):
    """Returns (HairFast, working directory); run .swap inside that directory (relative paths of the official code)."""
    src, tree = Path(src).resolve(), Path(tree).resolve()
    check_src(src)
    install_stubs(src, clip=False, model_zoo=False)
    sys.modules['clip'] = clip_module()
    patch_for_cpu()
    # parity's CPU patches (same process): randn, int interpolate, fixed noise
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from parity import patch_official_for_cpu
    patch_official_for_cpu(src)
    home = Path(tempfile.mkdtemp(prefix='hairfast-home-'))
    (home / '.cache' / 'clip').mkdir(parents=True)
    (home / '.cache' / 'clip' / 'ViT-B-32.pt').symlink_to(Path(clip_file or tree / 'clip' / 'ViT-B-32.pt').resolve())
    os.environ['HOME'] = str(home)
    os.environ['TORCH_HOME'] = str(tree / 'torch-hub')
    wd = workdir(src, tree)
    os.chdir(wd)
    from models.sean_codes.models import pix2pix_model
    pix2pix_model.SEAN_OPT.gpu_ids = []
    from utils.bicubic import BicubicDownSample  # Embedding/Blending build it with cuda=True (torch.cuda.FloatTensor)
    BicubicDownSample.__init__.__defaults__ = (4, False, 'reflect')
    from models.FeatureStyleEncoder import FSencoder
    FSencoder.config['device'] = 'cpu'
    import hair_swap
    args = hair_swap.get_parser().parse_args(['--device', 'cpu'])
    return hair_swap.HairFast(args), wd

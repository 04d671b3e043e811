"""Builds the official HairFastGAN networks from a checkout (--src), on any device, without downloads.

The official code compiles CUDA extensions at import (stylegan2/op), calls .cuda() and clip.load(), reads
checkpoints in constructors and fetches resnet18 from the network. This module installs small stand-ins for those
edges (sys.modules entries and a guarded torch.load) and then constructs each network, with either random weights
(seeded) or the official checkpoints. The architectures themselves always come from --src.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
import types
from pathlib import Path

import torch
from torch import nn

from . import ops
from .checkpoints import SUPPORTED_CLIP, Checkpoints
from .clip_vit import VisionTransformer
from .errors import ExportError


class _AttrDict(dict):
    """Stand-in for the `addict.Dict` the CtrlHair config uses (attribute access on a dict)."""

    def __getattr__(self, k):
        try:
            return self[k]
        except KeyError as e:
            raise AttributeError(k) from e

    def __setattr__(self, k, v):
        self[k] = v


def _op_module(name: str) -> types.ModuleType:
    mod = types.ModuleType(name)

    class FusedLeakyReLU(nn.Module):
        def __init__(self, channel, negative_slope=0.2, scale=2 ** 0.5):
            super().__init__()
            self.bias = nn.Parameter(torch.zeros(channel))
            self.negative_slope = negative_slope
            self.scale = scale

        def forward(self, x):
            return ops.fused_leaky_relu(x, self.bias, self.negative_slope, self.scale)

    def upfirdn2d(x, kernel, up=1, down=1, pad=(0, 0)):
        return ops.upfirdn2d(x, kernel, up=up, down=down, pad=pad)

    mod.FusedLeakyReLU = FusedLeakyReLU
    mod.fused_leaky_relu = ops.fused_leaky_relu
    mod.upfirdn2d = upfirdn2d
    return mod


class _PassthroughModule(types.ModuleType):
    """An absent optional dependency: any attribute is a function returning its first argument (tqdm(x) -> x)."""

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        return lambda x=None, *a, **k: x


class _ClipStub(types.ModuleType):
    """`clip` with load() returning the local ViT-B/32 tower (random init; real weights come from the checkpoint)."""

    def __init__(self):
        super().__init__('clip')

    @staticmethod
    def load(name='ViT-B/32', device='cpu', jit=False):
        model = nn.Module()
        model.visual = VisionTransformer()
        model.encode_image = lambda image: model.visual(image)
        return model, None


class _StaticPoolF(types.ModuleType):
    """torch.nn.functional with avg_pool2d/interpolate taking int sizes (traced x.size() values become constants)."""

    def __init__(self):
        super().__init__('torch.nn.functional.static')
        import torch.nn.functional as F
        self._F = F

    def __getattr__(self, name):
        return getattr(self._F, name)

    def avg_pool2d(self, x, kernel_size, *a, **k):
        return self._F.avg_pool2d(x, [int(v) for v in kernel_size], *a, **k)

    def interpolate(self, x, size=None, *a, **k):
        if size is not None:
            size = [int(v) for v in size]
        return self._F.interpolate(x, size, *a, **k)


OP_PACKAGES = ['models.stylegan2.op', 'models.encoder4editing.models.stylegan2.op',
               'models.FeatureStyleEncoder.pixel2style2pixel.models.stylegan2.op', 'pixel2style2pixel.models.stylegan2.op']


def install_stubs(src: Path, clip: bool = True, model_zoo: bool = True) -> None:
    """clip / model_zoo False: leave `clip` and torch's load_url alone (official_hairfast installs its own)."""
    src = str(Path(src).resolve())
    if src not in sys.path:
        sys.path.insert(0, src)
    for name in OP_PACKAGES:
        sys.modules.setdefault(name, _op_module(name))
    if 'addict' not in sys.modules:
        try:
            importlib.import_module('addict')
        except ImportError:
            sys.modules['addict'] = types.ModuleType('addict')
            sys.modules['addict'].Dict = _AttrDict
    # modules imported at module level by code paths the exporter never runs (downloads, plotting, progress bars)
    for missing in ('gdown', 'cv2', 'dill', 'dlib', 'tqdm', 'face_alignment'):
        if missing not in sys.modules:
            try:
                importlib.import_module(missing)
            except ImportError:
                sys.modules[missing] = _PassthroughModule(missing)
    if 'matplotlib' not in sys.modules:  # e4e's psp.py selects a plotting backend at import
        try:
            importlib.import_module('matplotlib')
        except ImportError:
            mpl = types.ModuleType('matplotlib')
            mpl.use = lambda *a, **k: None
            sys.modules['matplotlib'] = mpl
            sys.modules['matplotlib.pyplot'] = types.ModuleType('matplotlib.pyplot')
    if clip and 'clip' not in sys.modules:
        sys.modules['clip'] = _ClipStub()
    if not model_zoo:
        return
    import torch.utils.model_zoo as zoo
    zoo.load_url = lambda *a, **k: {}  # BiSeNet's resnet18 ImageNet init: not needed, weights come later


@contextlib.contextmanager
def fake_torch_load(provider):
    """Within the block, torch.load(path) returns provider(path) (constructors that read checkpoints)."""
    real = torch.load
    torch.load = lambda path, *a, **k: provider(str(path))
    try:
        yield
    finally:
        torch.load = real


def calibrate_sean_norms(net: nn.Module, mean_codes: torch.Tensor) -> None:
    """Random mode only: SEAN's param-free BatchNorms run on running statistics, which at init (0 / 1) leave the
    random network's activations growing to 1e27 and tanh saturated at +-1 (a parity run would compare constants).
    Set them to the statistics of one seeded decode (batch statistics, momentum 1) on a copy, then copy them back."""
    import copy
    from .graphs import SeanDecode, example_inputs
    from .onnx_io import load_contract
    calib = copy.deepcopy(net)
    dec = SeanDecode(calib, mean_codes)
    norms = [m for m in dec.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = 1.0
    dec.train()
    pre_tanh = []
    hook = calib.conv_img.register_forward_hook(lambda mod, i, out: pre_tanh.append(out.std().item()))
    with torch.no_grad():
        dec(*example_inputs(load_contract()['graphs']['sean_decode'], seed=12345))
    hook.remove()
    stats = {n: m for n, m in calib.named_modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)}
    for n, m in net.named_modules():
        if n in stats and stats[n].running_mean is not None:
            m.running_mean.copy_(stats[n].running_mean)
            m.running_var.copy_(stats[n].running_var)
    # and bring the last conv's output to std ~0.5 so tanh is not saturated
    scale = max(pre_tanh[0] / 0.5, 1e-6)
    with torch.no_grad():
        net.conv_img.weight.div_(scale)
        if net.conv_img.bias is not None:
            net.conv_img.bias.div_(scale)


def tame_random_convs(module: nn.Module) -> nn.Module:
    """Random mode only: the iresnet's own init (conv weights N(0, 0.1)) overflows to inf through 50 layers, which
    makes a parity run meaningless; torch's default conv init keeps activations finite."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            m.reset_parameters()
    return module


class Official:
    """Constructs the official networks. `checkpoints` = the repo's pretrained_models directory, or None for random;
    `clip` = the CLIP ViT-B/32 file (default: where clip.load("ViT-B/32") keeps it, ~/.cache/clip/ViT-B-32.pt).
    Every checkpoint is read through checkpoints.Checkpoints: strict keys, explicit weights_only, key accounting."""

    def __init__(self, src: Path, checkpoints: Path | None, seed: int, device: str = 'cpu', clip: Path | None = None):
        check_src(src)
        install_stubs(src)
        self.src = Path(src)
        self.ck = Checkpoints(checkpoints, clip) if checkpoints else None
        self.checkpoints = Path(checkpoints) if checkpoints else None
        self.seed = seed
        self.device = device

    def _seed(self, salt: int) -> None:
        torch.manual_seed(self.seed * 1000 + salt)

    # --- StyleGAN2 generator (official class; the exporter loads its state dict into stylegan.Generator)
    def generator_state(self) -> tuple[dict, torch.Tensor]:
        if self.ck:
            rel = 'StyleGAN/ffhq.pt'  # Net.load_weights: checkpoint['g_ema'], checkpoint['latent_avg']
            return self.ck.get(rel, 'g_ema'), self.ck.get(rel, 'latent_avg')
        from models.stylegan2.model import Generator
        self._seed(1)
        g = Generator(1024, 512, 8, channel_multiplier=2)
        with torch.no_grad():  # zero-initialised noise strengths / biases would hide wiring mistakes
            for name, p in g.named_parameters():
                if name.endswith('noise.weight') or name.endswith('activate.bias') or name.endswith('to_rgb1.bias') \
                        or (name.startswith('to_rgbs') and name.endswith('.bias')):
                    p.normal_(0, 0.1)
        return g.state_dict(), torch.randn(512) * 0.1

    def official_generator(self):
        from models.stylegan2.model import Generator
        g = Generator(1024, 512, 8, channel_multiplier=2)
        sd, _ = self.generator_state()
        if self.ck:
            self.ck.load_strict(g, sd, 'StyleGAN/ffhq.pt', 'g_ema', 'the StyleGAN2 generator (1024 px, 512, 8 mlp)')
        else:
            g.load_state_dict(sd)
        return g.eval()

    # --- BiSeNet (CtrlHair's copy, used by get_segmentation)
    def bisenet(self):
        import models.CtrlHair.external_code.face_parsing.model as bise_mod
        from models.CtrlHair.external_code.face_parsing.model import BiSeNet
        bise_mod.F = _StaticPoolF()  # F.avg_pool2d(x, x.size()[2:]) is a global mean: give it static sizes
        self._seed(2)
        net = BiSeNet(n_classes=19)
        if self.ck:  # FaceParsing_tensor.parsing_img
            rel = 'BiSeNet/face_parsing_79999_iter.pth'
            self.ck.load_strict(net, self.ck.get(rel), rel, '', 'BiSeNet(n_classes=19)')
        return net.eval()

    # --- Rotate encoder
    def rotate_model(self):
        from models.Encoders import RotateModel
        self._seed(3)
        m = RotateModel()
        if self.ck:  # Alignment.__init__: torch.load(rotate_checkpoint)['model_state_dict']
            rel = 'Rotate/rotate_best.pth'
            self.ck.load_strict(m, self.ck.get(rel, 'model_state_dict'), rel, 'model_state_dict', 'RotateModel')
        return m.eval()

    # --- CtrlHair shape adaptor
    def mask_generator(self):
        from models.CtrlHair.shape_branch.config import cfg
        from models.CtrlHair.shape_branch.model import Generator
        self._seed(4)
        g = Generator(cfg)
        if self.ck:  # Alignment.__init__: mask_generator.load_state_dict(torch.load(...mask_generator.pth))
            rel = 'ShapeAdaptor/mask_generator.pth'
            self.ck.load_strict(g, self.ck.get(rel), rel, '', 'the CtrlHair shape generator')
        else:
            with torch.no_grad():  # LayerNorm-style gains start at fixed values; jitter them
                for name, p in g.named_parameters():
                    if 'norm' in name:
                        p.add_(torch.randn_like(p) * 0.1)
        return g.eval()

    # --- SEAN
    SEAN_G = 'sean_checkpoints/CelebA-HQ_pretrained/latest_net_G.pth'

    def sean_generator(self):
        from models.sean_codes.models import networks
        from models.sean_codes.models.pix2pix_model import SEAN_OPT
        opt = argparse.Namespace(**vars(SEAN_OPT))
        opt.gpu_ids = []
        self._seed(5)
        net_cls = networks.find_network_using_name(opt.netG, 'generator')
        net = net_cls(opt)
        net.init_weights(opt.init_type, opt.init_variance)
        if self.ck:  # Pix2PixModel.initialize_networks: util.load_network(netG, 'G', which_epoch, opt)
            self.ck.load_strict(net, self.ck.get(self.SEAN_G), self.SEAN_G, '', 'the SEAN generator (SEAN_OPT)')
        else:
            with torch.no_grad():
                for name, p in net.named_parameters():
                    if name.endswith('blending_gamma') or name.endswith('blending_beta'):
                        p.normal_()
            calibrate_sean_norms(net, self.sean_mean_codes())
        return net.eval()

    def sean_mean_codes(self) -> torch.Tensor:
        import numpy as np
        base = self.src / 'models' / 'sean_codes' / 'styles_test' / 'mean_style_code' / 'median'
        return torch.stack([torch.from_numpy(np.load(base / str(i) / 'ACE.npy')).float().reshape(512)
                            for i in range(19)])

    # --- CLIP blending encoder (modulation) + ViT tower
    BLENDING = 'Blending/checkpoint.pth'

    def _blending_checkpoint(self) -> tuple[dict, dict]:
        """Blending.__init__: ClipBlendingModel(ck.get('clip', "ViT-B/32")), then load_state_dict(ck['model_state_dict'],
        strict=False) over the CLIP weights clip.load gave. Returns (modulation keys, clip_model.visual.* keys)."""
        rel = self.BLENDING
        ck = self.ck.load(rel)
        clip_name = ck.get('clip', SUPPORTED_CLIP) if isinstance(ck, dict) else SUPPORTED_CLIP
        if isinstance(ck, dict) and 'clip' in ck:
            self.ck.mark(rel, 'clip')
        if clip_name != SUPPORTED_CLIP:
            raise ExportError('CLIP_UNSUPPORTED', f"{rel} asks for CLIP {clip_name!r} (its 'clip' entry); the graphs "
                              f'(clip_visual, color_mod in graphs.contract.json) are built for {SUPPORTED_CLIP}',
                              f'use the official Blending checkpoint, which is trained with {SUPPORTED_CLIP}', file=rel)
        state = self.ck.get(rel, 'model_state_dict', consume=False)  # load_strict / clip_visual mark what they use
        own, visual, text = {}, {}, []
        for k, v in state.items():
            if k.startswith('clip_model.visual.'):
                visual[k[len('clip_model.visual.'):]] = v
            elif k.startswith('clip_model.'):
                text.append(k)  # CLIP's text tower, saved with the module: HairFast never runs it
            else:
                own[k] = v
        return own, visual, text

    def blending_encoder(self):
        from models.Encoders import ClipBlendingModel
        self._seed(6)
        m = ClipBlendingModel()
        if self.ck:
            own, visual, text = self._blending_checkpoint()
            rel = self.BLENDING
            # the CLIP tower's weights come from the CLIP file (clip_visual), unless the checkpoint carries them
            self.ck.load_strict(m, own, rel, 'model_state_dict', 'ClipBlendingModel (without its CLIP tower)',
                                optional_missing=('clip_model.',))
        return m.eval()

    def clip_visual(self) -> VisionTransformer:
        self._seed(7)
        vit = VisionTransformer()
        if self.ck:
            sd = self.ck.clip_state()
            rel = 'clip:' + self.ck.clip_file.name
            visual = {k[len('visual.'):]: v.float() for k, v in sd.items() if k.startswith('visual.')}
            self.ck.load_strict(vit, visual, rel, '', 'the CLIP ViT-B/32 image tower')
            self.ck.mark(rel, *[k for k in sd if k.startswith('visual.')])
            _, from_blending, _ = self._blending_checkpoint()
            if from_blending:  # strict=False in Blending.__init__ puts the checkpoint's CLIP weights over the file's
                merged = dict(visual, **{k: v.float() for k, v in from_blending.items()})
                self.ck.load_strict(vit, merged, self.BLENDING, 'model_state_dict/clip_model.visual.',
                                    'the CLIP ViT-B/32 image tower')
        return vit.eval()

    # --- e4e encoder
    E4E = 'encoder4editing/e4e_ffhq_encode.pt'

    def e4e(self) -> tuple[nn.Module, torch.Tensor]:
        from models.encoder4editing.models.encoders.psp_encoders import Encoder4Editing
        self._seed(8)
        if self.ck:  # setup_model -> pSp(opts).load_weights: get_keys(ckpt, 'encoder'), ckpt['latent_avg']
            rel = self.E4E
            opts = argparse.Namespace(**self.ck.get(rel, 'opts'))
            enc = Encoder4Editing(50, 'ir_se', opts)
            sd = self.ck.get(rel, 'state_dict', consume=False)  # decoder.*: the e4e's own G, unused by HairFast
            enc_sd = {k[len('encoder.'):]: v for k, v in sd.items() if k.startswith('encoder.')}
            self.ck.load_strict(enc, enc_sd, rel, 'state_dict/encoder.', 'Encoder4Editing(50, ir_se)')
            return enc.eval(), self.ck.get(rel, 'latent_avg').float()
        enc = Encoder4Editing(50, 'ir_se', argparse.Namespace(stylegan_size=1024))
        return enc.eval(), torch.randn(18, 512) * 0.1

    # --- FS encoder (FeatureStyleEncoder fs_encoder_v2)
    def fs_encoder(self) -> tuple[nn.Module, torch.Tensor]:
        sys.path.insert(0, str(self.src / 'models' / 'FeatureStyleEncoder'))
        from nets.feature_style_encoder import fs_encoder_v2
        import models.Net as net_mod
        self._seed(9)
        # the arcface init it reads is overwritten by 143_enc.pth below (FSencoder.get_trainer does the same)
        with fake_torch_load(lambda p: net_mod.iresnet50().state_dict()):
            enc = fs_encoder_v2(n_styles=18, opts=argparse.Namespace(arcface_model_path='random'), stride=(2, 2))
        if self.ck:  # FSencoder.get_trainer: enc.load_state_dict(143_enc.pth); Trainer.initialize: psp latent_avg
            rel = 'FeatureStyleEncoder/143_enc.pth'
            self.ck.load_strict(enc, self.ck.get(rel), rel, '', 'fs_encoder_v2 (FeatureStyleEncoder)')
            avg = self.ck.get('FeatureStyleEncoder/psp_ffhq_encode.pt', 'latent_avg').float()
        else:
            tame_random_convs(enc)
            avg = torch.randn(18, 512) * 0.1
        return enc.eval(), avg

    # --- post-process (refine) model
    def post_process(self) -> nn.Module:
        from models.Encoders import PostProcessModel
        import models.Net as net_mod
        self._seed(10)

        # read before torch.load is redirected below (the checkpoint reader itself calls torch.load)
        latent_avg = self.ck.get('PostProcess/latent_avg.pt') if self.ck else None

        def provider(path: str):
            if path.endswith('latent_avg.pt'):
                # the official file holds one 512-d latent (2.8 kB); finall_s broadcasts it over the 18 layers
                return latent_avg if latent_avg is not None else torch.randn(512) * 0.1
            return net_mod.iresnet50().state_dict()  # ArcFace init of encoder_face: overwritten by pp_model.pth

        with fake_torch_load(provider):
            m = PostProcessModel()
        if self.ck:  # Blending.__init__: post_process.load_state_dict(torch.load(pp_checkpoint)['model_state_dict'])
            rel = 'PostProcess/pp_model.pth'
            self.ck.load_strict(m, self.ck.get(rel, 'model_state_dict'), rel, 'model_state_dict', 'PostProcessModel')
        else:
            tame_random_convs(m)
        return m.eval()


def check_src(src: Path) -> None:
    needed = ['hair_swap.py', 'models/Encoders.py', 'models/Blending.py', 'models/Net.py', 'models/Alignment.py',
              'models/FeatureStyleEncoder/FSencoder.py', 'models/sean_codes/models/pix2pix_model.py']
    missing = [p for p in needed if not (Path(src) / p).is_file()]
    if missing:
        raise ExportError('SRC_INVALID', f'{src} is not a HairFastGAN checkout: no {", ".join(missing)}',
                          'pass --src a checkout of AIRI-Institute/HairFastGAN (git clone, or `hairstyler models import '
                          '--download`)', missing=missing)

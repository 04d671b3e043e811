#!/usr/bin/env python3
"""Per-graph parity: the official HairFastGAN code (from --src, seeded random weights) against the exported graphs
(run through onnxruntime-node) on the same inputs.

  parity.py --src /tmp/hairfast-src --models models/hairfast --seed 0 [--only a,b] [--markdown docs/parity.md]
  parity.py ... --e2e [--mode both|shape|color|same] [--ts]   # HairFast.swap vs the graph chain (or `hairstyler transfer`)
  parity.py ... --e2e --swap [--swap-fp16]                     # + the swap composite (and swap_fp16) vs chain and official
  parity.py ... --precision fp16 [--e2e ...]   # the <name>_fp16 graphs (fp16 storage, float32 arithmetic per op)
  parity.py ... --tree TREE [--e2e ...]         # the official networks read from an official-format tree
                                                # (official_tree.py): HairFast built by its own constructor and
                                                # loaders (hairfast_export/official_hairfast.py); e2e = its swap

With --tree the official side is `hair_swap.HairFast(args)` itself reading TREE/pretrained_models (and the CLIP file
at TREE/clip); `--tree-loader lines` (trees with only some files: the CI round trip) instead runs only the loading
lines of the official module that reads each file (Blending.__init__ for color_mod; align_f and blend_masks read
none).

The official side runs the repo's own functions and modules (get_segmentation, get_hair_face_code, get_new_shape,
Zencoder, decode_sean, get_latents, Alignment.align_images, DilateErosion, ClipBlendingModel, PostProcessModel,
Generator.forward) on CPU, with these run-time adjustments only: Tensor.cuda() is the identity, randn(device='cuda')
runs on the CPU, the generator's forward defaults to randomize_noise=False (the graphs use the fixed noise
buffers), the repo's CUDA ops are the plain-torch ops of hairfast_export.ops, and clip.load gives the local ViT.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from argparse import Namespace
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

import onnx  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from hairfast_export.fp16 import emulate_half  # noqa: E402
from hairfast_export.graphs import example_inputs  # noqa: E402
from hairfast_export.official import Official  # noqa: E402
from hairfast_export.onnx_io import feeds_of, load_contract, output_errors, run_ort, save_onnx  # noqa: E402
from hairfast_export.rows import emit  # noqa: E402

IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


def patch_official_for_cpu(src: Path, device: str = 'cpu') -> None:
    if device == 'cpu':  # on a GPU the official .cuda() calls stay what they are
        torch.Tensor.cuda = lambda self, *a, **k: self
    real_randn = torch.randn

    def randn(*a, **k):
        if str(k.get('device', 'cpu')).startswith('cuda') and not torch.cuda.is_available():
            k['device'] = 'cpu'
        return real_randn(*a, **k)

    torch.randn = randn
    real_interpolate = F.interpolate

    def interpolate(x, *a, **k):  # CPU has no int64 nearest kernel (CUDA has); labels go through float exactly
        if not x.is_floating_point():
            return real_interpolate(x.float(), *a, **k).to(x.dtype)
        return real_interpolate(x, *a, **k)

    torch.nn.functional.interpolate = interpolate
    from models.stylegan2.model import Generator
    forward = Generator.forward

    def fixed_noise_forward(self, styles, *a, **k):
        k.setdefault('randomize_noise', False)
        return forward(self, styles, *a, **k)

    Generator.forward = fixed_noise_forward


@contextlib.contextmanager
def cwd(path: Path):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def to_bisenet(x):
    import torchvision.transforms as T
    return T.Normalize(*IMAGENET)(x)


class FromHairFast:
    """Official's interface over the networks an officially constructed HairFast holds (nothing rebuilt)."""

    def __init__(self, hf, src: Path):
        self.hf, self.src = hf, Path(src)

    def official_generator(self):
        return self.hf.net.generator.eval()

    def bisenet(self):
        from models.CtrlHair.external_code.face_parsing.my_parsing_util import FaceParsing
        return FaceParsing.bise_net

    def rotate_model(self):
        return self.hf.align.rotate_model

    def mask_generator(self):
        return self.hf.align.mask_generator

    def sean_generator(self):
        return self.hf.align.sean_model.netG

    def e4e(self):
        return self.hf.embed.e4e.encoder, self.hf.embed.e4e.latent_avg

    def fs_encoder(self):
        return self.hf.embed.encoder.enc, self.hf.embed.encoder.dlatent_avg

    def blending_encoder(self):
        return self.hf.blend.blending_encoder

    def clip_visual(self):
        return self.hf.blend.blending_encoder.clip_model.visual

    def post_process(self):
        return self.hf.blend.post_process

    def sean_mean_codes(self):
        return Official.sean_mean_codes(self)


class FromLoadingLines:
    """For a tree with only some files: the official loading lines for the file a graph reads, nothing else."""

    def __init__(self, tree: Path):
        self.tree = Path(tree) / 'pretrained_models'

    def blending_encoder(self):
        from models.Encoders import ClipBlendingModel  # Blending.__init__, line for line:
        blending_checkpoint = torch.load(str(self.tree / 'Blending' / 'checkpoint.pth'))
        blending_encoder = ClipBlendingModel(blending_checkpoint.get('clip', "ViT-B/32"))
        blending_encoder.load_state_dict(blending_checkpoint['model_state_dict'], strict=False)
        return blending_encoder.eval()

    def clip_visual(self):
        return self._blending_clip

    def __getattr__(self, name):
        raise SystemExit(f'--tree-loader lines covers color_mod, align_f, blend_masks; {name} needs the full tree')


class References:
    """Official computations for each contract graph, on fresh official networks with the export's seed, or (tree)
    on the networks the official loaders read from an official-format tree."""

    def __init__(self, src: Path, seed: int, device: str = 'cpu', tree: Path | None = None, loader: str = 'hairfast'):
        self.src = src
        self.hf = None
        if tree is None:
            self.o = Official(src, None, seed)
            patch_official_for_cpu(src, device)
        elif loader == 'hairfast':
            from hairfast_export.official_hairfast import construct_hairfast
            t0 = time.time()
            self.hf, self.workdir = construct_hairfast(src, tree)
            self.construct_s = round(time.time() - t0, 1)
            self.o = FromHairFast(self.hf, src)
        else:
            Official(src, None, seed)  # the exporter's stubs (CUDA ops, clip): color_mod takes CLIP embeddings as inputs
            patch_official_for_cpu(src, device)
            self.o = FromLoadingLines(tree)

    def _segment(self, x):
        from models.Net import get_segmentation
        from models.CtrlHair.external_code.face_parsing.my_parsing_util import FaceParsing
        if FaceParsing.bise_net is None:
            FaceParsing.bise_net = self.o.bisenet()
        return torch.cat([get_segmentation(im.unsqueeze(0)) for im in to_bisenet(x)])

    def bisenet(self, image):
        from utils.bicubic import BicubicDownSample
        return (self._segment(BicubicDownSample(factor=2, cuda=False)(image)),)

    def rotate(self, w_face, w_other):
        rot = self.o.rotate_model()(w_other[:, :6], w_face[:, :6])
        rot = torch.cat((rot, w_other[:, 6:]), dim=1)
        image, _ = self.o.official_generator()([rot], input_is_latent=True, return_latents=False)
        return (self._segment(((image + 1) / 2).clip(0, 1)),)

    def _ctrl(self):
        if not hasattr(self, 'mask_gen'):
            self.mask_gen = self.o.mask_generator()
        return self.mask_gen

    def ctrl_face_enc(self, mask):
        from models.CtrlHair.shape_branch.solver import get_hair_face_code
        return (get_hair_face_code(self._ctrl(), mask[0, 0].clone())[0],)

    def ctrl_hair_enc(self, mask):
        from models.CtrlHair.shape_branch.solver import get_hair_face_code
        return (get_hair_face_code(self._ctrl(), mask[0, 0].clone())[1],)

    def ctrl_decode(self, face_code, hair_code):
        from models.CtrlHair.shape_branch.solver import get_new_shape
        return (get_new_shape(self._ctrl(), face_code, hair_code)[None, None],)

    def sean_encode(self, image_256, mask):
        g = self.o.sean_generator()
        seg = torch.zeros(1, 19, 256, 256).scatter_(1, mask, 1.0)  # Pix2PixModel.preprocess_input
        return (g.Zencoder(input=image_256, segmap=seg),)

    def sean_decode(self, codes, target_mask):
        from models.sean_codes.models.pix2pix_model import Pix2PixModel, SEAN_OPT, decode_sean
        model = Pix2PixModel.__new__(Pix2PixModel)
        torch.nn.Module.__init__(model)
        model.opt = Namespace(**dict(vars(SEAN_OPT), gpu_ids=[]))
        model.FloatTensor, model.ByteTensor = torch.FloatTensor, torch.ByteTensor
        model.netG = self.o.sean_generator()
        with cwd(self.src):  # load_average_feature globs a path relative to the repo root
            outs = [decode_sean(model, codes[i:i + 1], target_mask) for i in range(codes.shape[0])]
        return (torch.stack(outs),)

    def _e4e_latents(self, images):
        from models.encoder4editing.utils.model_utils import get_latents
        enc, avg = self.o.e4e()
        net = Namespace(encoder=enc, latent_avg=avg, opts=Namespace(start_from_latent_avg=True))
        return get_latents(net, images)

    def e4e(self, images):
        w = self._e4e_latents(images)
        f, _ = self.o.official_generator()([w], input_is_latent=True, return_latents=False, start_layer=0, end_layer=3)
        return w, f

    def embed(self, image, mask):
        # Embedding.embedding_images for one image that is not the only one (so the F mixing runs)
        from utils.bicubic import BicubicDownSample
        import torchvision.transforms as T
        normalize = T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
        gen = self.o.official_generator()
        im_256 = BicubicDownSample(factor=4, cuda=False)(image)
        im_256_norm = normalize(im_256)
        w = self._e4e_latents(im_256_norm)
        fs, fs_avg = self.o.fs_encoder()
        x = normalize(image)
        for _ in range(2):  # FeatureStyleEncoder trainer.downscale(x, 2, 'bilinear') (trainer.py needs face_alignment)
            x = F.interpolate(x, scale_factor=0.5, mode='bilinear')
        s, fea = fs(x)
        s = s + fs_avg
        f, _ = gen([s], input_is_latent=True, return_latents=False, start_layer=3, end_layer=3, layer_in=fea)
        hair = torch.where(mask == 13, torch.ones_like(mask), torch.zeros_like(mask))
        hair = F.interpolate(hair.float(), size=(32, 32), mode='bicubic')
        f_w = gen([w], input_is_latent=True, return_latents=False, start_layer=0, end_layer=3)[0]
        f_mix = f + 0.95 * hair * (f_w - f)
        return w, s, f, f_mix, im_256, im_256_norm

    def align_f(self, f_face, f_shape, f_e4e, mask_face, mask_shape, target_mask):
        import models.Alignment as alignment
        from utils.image_utils import DilateErosion
        a = alignment.Alignment.__new__(alignment.Alignment)
        torch.nn.Module.__init__(a)
        a.opts = Namespace(save_all=False, smooth=5, device='cpu')
        a.dilate_erosion = DilateErosion(dilate_erosion=5, device='cpu')
        a.sean_model = None

        def hair(m):
            return torch.where(m == 13, torch.ones_like(m), torch.zeros_like(m))

        a.shape_module = lambda *args, **k: (mask_face, hair(mask_face), mask_shape, hair(mask_shape), target_mask,
                                             hair(target_mask))
        a.latent_encoder = lambda imgs: {'F': f_e4e, 'W': torch.zeros(2, 18, 512)}
        saved = alignment.encode_sean, alignment.decode_sean
        alignment.encode_sean = lambda *args: (torch.zeros(19, 512), torch.zeros(19, 512))
        alignment.decode_sean = lambda *args: torch.zeros(3, 256, 256)
        try:
            embeds = {'face': {'image_256': torch.zeros(1), 'S': None, 'F': f_face},
                      'shape': {'image_256': torch.ones(1), 'S': None, 'F': f_shape}}
            out = a.align_images('face', 'shape', embeds)
        finally:
            alignment.encode_sean, alignment.decode_sean = saved
        return (out['latent_F_align'],)

    def blend_masks(self, image_norm_face, image_norm_color, mask_face, mask_color, target_mask):
        # the mask lines of Blending.blend_images, through the repo's DilateErosion
        from utils.image_utils import DilateErosion
        de = DilateErosion(dilate_erosion=5, device='cpu')
        # float labels: CPU nearest interpolation has no int64 kernel (the official runs on CUDA); values are equal
        mask_de = de.hair_from_mask(torch.cat([mask_face, mask_color], dim=0).float())
        hm_1d = mask_de[0][0].unsqueeze(0)
        hm_3d, hm_3e = mask_de[0][1].unsqueeze(0), mask_de[1][1].unsqueeze(0)
        hm_x = torch.where(target_mask == 13, torch.ones_like(target_mask), torch.zeros_like(target_mask))
        hm_xd, _ = de.mask(hm_x)
        keep = (1 - hm_1d) * (1 - hm_3d) * (1 - hm_xd)
        return image_norm_face * keep, image_norm_color * hm_3e

    def _blending(self):
        if not hasattr(self, 'blend'):
            self.blend = self.o.blending_encoder()
            if isinstance(self.o, Official):  # random mode: the exporter's ViT weights (a tree: clip.load's own)
                self.blend.clip_model.visual.load_state_dict(self.o.clip_visual().state_dict())
        return self.blend

    def clip_visual(self, image):
        return (self._blending().get_image_embed(image),)

    def color_mod(self, s_face, s_color, emb_face, emb_color):
        blend = self._blending()
        face_img, color_img = torch.zeros(1), torch.ones(1)
        blend.get_image_embed = lambda x: emb_face if x is face_img else emb_color
        try:
            out = blend(s_face[:, 6:], s_color[:, 6:], face_img, color_img)
        finally:
            del blend.get_image_embed
        return (torch.cat((s_face[:, :6], out), dim=1),)

    def g_f32_to_img(self, s, f):
        from utils.bicubic import BicubicDownSample
        image, _ = self.o.official_generator()([s], input_is_latent=True, return_latents=False, start_layer=4,
                                               end_layer=8, layer_in=f)
        return (BicubicDownSample(factor=4, cuda=False)(image),)

    def refine(self, image_norm_face, blend_256):
        return tuple(self.o.post_process()(image_norm_face, blend_256))

    def g_f64_to_img(self, s, f):
        image, _ = self.o.official_generator()([s], input_is_latent=True, return_latents=False, start_layer=5,
                                               end_layer=8, layer_in=f)
        return (((image[0:1] + 1) / 2).clip(0, 1),)


class FSEncoderShim:
    """What Embedding uses of FeatureStyleEncoder's Trainer: test(img, return_latent=True)[-2:] = (S, 16x16 feature).
    trainer.py itself cannot be imported here (face_alignment, lpips); the reconstruction image it also returns is
    unused by HairFast and skipped."""

    def __init__(self, enc, avg):
        self.enc, self.avg = enc, avg

    def test(self, img=None, return_latent=True, **_):
        x = img
        for _ in range(2):  # trainer.downscale(x, 2, 'bilinear')
            x = F.interpolate(x, scale_factor=0.5, mode='bilinear')
        w, fea = self.enc(x)
        return [img, None, w + self.avg, fea]


def official_swap(refs: 'References', face, shape, color):
    """hair_swap.HairFast.swap on the official Embedding / Alignment / Blending code, assembled without their
    checkpoint-loading constructors (the networks are the seeded ones the export used)."""
    if refs.hf is not None:  # the officially constructed HairFast: its own swap, nothing assembled
        return refs.hf.swap(face, shape, color)
    hf = build_official(refs)
    with cwd(refs.src):
        return hf.swap(face, shape, color)


def swap_dir(refs: 'References') -> Path:
    """Where the official swap runs: its relative paths are the checkout's, or the tree's working directory."""
    return Path(refs.workdir) if refs.hf is not None else Path(refs.src)


def build_official(refs: 'References', device: str = 'cpu'):
    """The official hair_swap.HairFast over the seeded networks, on `device` (build once, then call .swap(face,
    shape, color) inside cwd(swap_dir(refs)) as often as wanted: bench_official.py times it warm). With a tree
    (References(..., tree=...)), the HairFast the official constructor built from it (CPU)."""
    if refs.hf is not None:
        if device != 'cpu':
            raise SystemExit('an official-format tree is constructed on the CPU only; use the seeded networks on a GPU')
        return refs.hf
    import torchvision.transforms as T
    from torch import nn
    import hair_swap
    from models.Alignment import Alignment
    from models.Blending import Blending
    from models.Embedding import Embedding
    from models.Net import Net
    from models.CtrlHair.external_code.face_parsing.my_parsing_util import FaceParsing
    from models.sean_codes.models.pix2pix_model import Pix2PixModel, SEAN_OPT
    from utils.bicubic import BicubicDownSample
    from utils.image_utils import DilateErosion
    if refs.hf is not None:  # the officially constructed HairFast (--tree): itself, nothing assembled
        return refs.hf
    o = refs.o
    FaceParsing.bise_net = o.bisenet()
    opts = Namespace(device=device, batch_size=3, save_all=False, mixing=0.95, smooth=5, size=1024)
    on_cuda = device.startswith('cuda')

    def shell(cls):
        obj = cls.__new__(cls)
        nn.Module.__init__(obj)
        obj.opts = opts
        return obj

    net = shell(Net)
    net.generator = o.official_generator()
    embed = shell(Embedding)
    embed.net = net
    embed.encoder = FSEncoderShim(*o.fs_encoder())
    enc, avg = o.e4e()
    embed.e4e = Namespace(encoder=enc, latent_avg=avg, opts=Namespace(start_from_latent_avg=True))
    embed.normalize = T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    embed.to_bisenet = T.Normalize(*IMAGENET)
    embed.downsample_512 = BicubicDownSample(factor=2, cuda=on_cuda)
    embed.downsample_256 = BicubicDownSample(factor=4, cuda=on_cuda)
    align = shell(Alignment)
    align.net = net
    align.latent_encoder = embed.get_e4e_embed
    sean = Pix2PixModel.__new__(Pix2PixModel)
    nn.Module.__init__(sean)
    sean.opt = Namespace(**dict(vars(SEAN_OPT), gpu_ids=[]))
    sean.FloatTensor, sean.ByteTensor = torch.FloatTensor, torch.ByteTensor
    sean.netG = o.sean_generator()
    align.sean_model = sean
    align.mask_generator = o.mask_generator()
    align.rotate_model = o.rotate_model()
    align.dilate_erosion = DilateErosion(dilate_erosion=5, device=device)
    align.to_bisenet = T.Normalize(*IMAGENET)
    blend = shell(Blending)
    blend.net = net
    blend.blending_encoder = refs._blending()
    blend.post_process = o.post_process()
    blend.dilate_erosion = DilateErosion(dilate_erosion=5, device=device)
    blend.downsample_256 = BicubicDownSample(factor=4, cuda=on_cuda)
    hf = hair_swap.HairFast.__new__(hair_swap.HairFast)
    hf.args, hf.net, hf.embed, hf.align, hf.blend = opts, net, embed, align, blend
    if device != 'cpu':
        # registered submodules move with their parents; these are held outside nn.Module attributes
        for module in (net, embed, align, blend, embed.encoder.enc, embed.e4e.encoder, FaceParsing.bise_net):
            module.to(device)
        embed.encoder.avg = embed.encoder.avg.to(device)
        embed.e4e.latent_avg = embed.e4e.latent_avg.to(device)
        sean.FloatTensor, sean.ByteTensor = torch.cuda.FloatTensor, torch.cuda.ByteTensor
    return hf


class GraphFiles:
    """The graph file parity runs for a name: <name>.onnx (fp32), or for fp16 the shipped <name>_fp16.onnx rewritten by
    fp16.emulate_half (fp16 storage, float32 arithmetic per op, as on a GPU; onnxruntime's CPU EP would skip
    roundings between ops it has no half kernels for), written once per run into a temporary directory."""

    def __init__(self, models: Path, precision: str):
        self.models, self.precision = models, precision
        self._tmp = tempfile.TemporaryDirectory(prefix='parity-fp16-') if precision == 'fp16' else None
        self._done: dict[str, Path] = {}

    def __call__(self, name: str) -> Path:
        if self.precision == 'fp32':
            return self.models / f'{name}.onnx'
        if name not in self._done:
            path = Path(self._tmp.name) / f'{name}_fp16_emulated.onnx'
            save_onnx(emulate_half(onnx.load(str(self.models / f'{name}_fp16.onnx'))), path)
            self._done[name] = path
        return self._done[name]


def graph_swap(models: 'GraphFiles', face, shape, color, merged: bool = False) -> tuple[np.ndarray, dict]:
    """The contract's flow (graphs.contract.json "flow"), every step an exported graph. Inputs that are the same
    tensor object are the same image (as after the official equal_replacer): per-image work runs once for them, but
    the shape module, alignment and blending run in full, as they do in the official code ("officialShortcuts").
    merged: after the per-image graphs, one run of the `swap` composite fed as src/pipeline/hairfast/swap.ts feeds
    it (times then also holds its feeds under 'swap_feeds')."""
    times = {}

    def g(name, **feeds):
        out, ms = run_ort(models(name), {k: np.ascontiguousarray(v) for k, v in feeds.items()})
        times[name] = times.get(name, 0) + ms
        return out

    distinct = []
    for img in (face, shape, color):
        if not any(img is d for d in distinct):
            distinct.append(img)
    per = {}
    for img in distinct:
        image = img[None].numpy().astype(np.float32)
        mask = g('bisenet', image=image)['mask']
        e = g('embed', image=image, mask=mask)
        code = g('sean_encode', image_256=e['image_256'], mask=mask)['codes']
        per[id(img)] = dict(e, mask=mask, code=code, F=e['f_mix'] if len(distinct) > 1 else e['f'])
    fa, sh, co = per[id(face)], per[id(shape)], per[id(color)]
    if merged:
        feeds = swap_feeds(g, fa, sh, co, shape is face, color is face)
        image = g('swap', **feeds)['image']
        return image[0], dict(times, swap_feeds=feeds)
    face_code = {}

    def target(other_img):
        if 'c' not in face_code:
            face_code['c'] = g('ctrl_face_enc', mask=fa['mask'])['face_code']
        rot = g('rotate', w_face=fa['w'], w_other=per[id(other_img)]['w'])['mask']
        hair_code = g('ctrl_hair_enc', mask=rot)['hair_code']
        return g('ctrl_decode', face_code=face_code['c'], hair_code=hair_code)['target_mask']

    t_shape = target(shape)
    t_color = t_shape if color is shape else target(color)
    imgs = g('sean_decode', codes=np.concatenate([fa['code'], sh['code']]), target_mask=t_shape)['images']
    f_e4e = g('e4e', images=imgs)['f']
    f_align = g('align_f', f_face=fa['F'], f_shape=sh['F'], f_e4e=f_e4e, mask_face=fa['mask'],
                mask_shape=sh['mask'], target_mask=t_shape)['f_align']
    bm = g('blend_masks', image_norm_face=fa['image_norm_256'], image_norm_color=co['image_norm_256'],
           mask_face=fa['mask'], mask_color=co['mask'], target_mask=t_color)
    emb_face = g('clip_visual', image=bm['face_masked'])['embedding']
    emb_color = g('clip_visual', image=bm['color_masked'])['embedding']
    s_blend = g('color_mod', s_face=fa['s'], s_color=co['s'], emb_face=emb_face, emb_color=emb_color)['s_blend']
    blend_256 = g('g_f32_to_img', s=s_blend, f=f_align)['image_256']
    r = g('refine', image_norm_face=fa['image_norm_256'], blend_256=blend_256)
    image = g('g_f64_to_img', s=r['s_final'], f=r['f_final'])['image']
    return image[0], times


def swap_feeds(g, fa: dict, sh: dict, co: dict, shape_is_face: bool, color_is_face: bool) -> dict:
    """The swap composite's inputs for one request (src/pipeline/hairfast/swap.ts): a colour reference brings its
    own CLIP embedding, as a colour preset's cache holds it (blend_masks + clip_visual on its own tensors)."""
    if color_is_face:
        clip = np.zeros((1, 512), np.float32)
    else:
        bm = g('blend_masks', image_norm_face=co['image_norm_256'], image_norm_color=co['image_norm_256'],
               mask_face=co['mask'], mask_color=co['mask'], target_mask=co['mask'])
        clip = g('clip_visual', image=bm['color_masked'])['embedding']
    return {
        'face_mask': fa['mask'], 'face_w': fa['w'], 'face_s': fa['s'], 'face_f': fa['f'], 'face_f_mix': fa['f_mix'],
        'face_image_256': fa['image_256'], 'face_image_norm_256': fa['image_norm_256'],
        'shape_is_face': np.array([shape_is_face]), 'shape_w': sh['w'], 'shape_mask': sh['mask'],
        'shape_f_mix': sh['f_mix'], 'shape_codes': np.zeros((1, 19, 512), np.float32) if shape_is_face else sh['code'],
        'color_is_face': np.array([color_is_face]), 'color_w': co['w'], 'color_s': co['s'], 'color_mask': co['mask'],
        'color_image_norm_256': co['image_norm_256'], 'color_clip': clip,
    }


MODES = ('both', 'shape', 'color', 'same')


def mode_images(mode: str, seed: int, eight_bit: bool = False):
    """face, shape, color for a mode: both = three images; shape = color is the face; color = shape is the face;
    same = one image three times. eight_bit: each image is k/255 (what a PNG holds, and what hair_swap's
    equal_replacer makes of a uint8 image), so another program can be given exactly the same values."""
    gen = torch.Generator().manual_seed(seed + 100)
    # smooth random images (noise upsampled), so masks have regions rather than salt-and-pepper labels
    a, b, c = (F.interpolate(torch.rand(1, 3, 16, 16, generator=gen), size=(1024, 1024), mode='bilinear')[0]
               for _ in range(3))
    if eight_bit:
        a, b, c = (torch.round(x.clamp(0, 1) * 255).to(torch.uint8) / 255 for x in (a, b, c))
    return {'both': (a, b, c), 'shape': (a, b, a), 'color': (a, a, c), 'same': (a, a, a)}[mode]


def ts_swap(models_dir: Path, face, shape, color, work: Path, precision: str = 'fp32') -> tuple[np.ndarray, dict]:
    """`hairstyler transfer --aligned` (the TypeScript runtime, onnxruntime-node) on the same images, written as
    8-bit PNGs (one file per distinct image object); returns its unrounded float result (--raw-out)."""
    from PIL import Image
    paths = []
    for role, img in zip(('face', 'shape', 'color'), (face, shape, color)):
        same = next((p for p, o in paths if o is img), None)
        if same is None:
            same = work / f'{role}.png'
            u8 = torch.round(img * 255).to(torch.uint8)
            assert torch.equal(u8 / 255, img), 'the TypeScript side needs 8-bit exact inputs (--ts uses them)'
            Image.fromarray(u8.permute(1, 2, 0).numpy(), 'RGB').save(same)
        paths.append((same, img))
    out, raw = work / 'ts.png', work / 'ts.f32'
    cmd = ['node', 'bin/hairstyler.js', 'transfer', '--aligned', '--face', str(paths[0][0]), '--shape', str(paths[1][0]),
           '--color', str(paths[2][0]), '-o', str(out), '--raw-out', str(raw), '--json']
    env = dict(os.environ, MODELS_DIR=str(models_dir), HAIR_EP='cpu', HAIR_PRECISION=precision, LOG_LEVEL='warn')
    t0 = time.time()
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f'hairstyler transfer failed ({done.returncode}): {done.stderr}')
    report = json.loads(done.stdout)
    report['wall_s'] = round(time.time() - t0, 1)
    report['command'] = ' '.join(cmd)
    got = np.fromfile(raw, dtype='<f4').reshape(3, 1024, 1024)
    png = np.asarray(Image.open(out).convert('RGB'), dtype=np.float64).transpose(2, 0, 1) / 255
    return got, dict(report, png=png)


def psnr_of(got: np.ndarray, want: torch.Tensor) -> tuple[float, float]:
    """PSNR in dB over the [0,1] range, and max abs difference."""
    diff = torch.from_numpy(np.asarray(got, dtype=np.float64)) - want.double()
    mse = float((diff ** 2).mean())
    return (float('inf') if mse == 0 else float(10 * np.log10(1.0 / mse))), float(diff.abs().max())


def official_side(refs: References, args) -> str:
    if args.tree and args.tree_loader == 'hairfast':
        return f'hair_swap.HairFast(args) constructed from {args.tree} (its own loaders)'
    return f'official modules from {args.tree} (loading lines)' if args.tree else f'official modules, seed {args.seed}'


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--src', type=Path, required=True)
    p.add_argument('--models', type=Path, required=True, help='directory of the random-weight export (same seed)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--only', type=str, default='')
    p.add_argument('--json', type=Path, help='append one JSON line per graph here')
    p.add_argument('--e2e', action='store_true', help='HairFast.swap vs the chained graphs on seeded images')
    p.add_argument('--mode', type=modes_arg, default='both', help='--e2e inputs (comma-separated: several modes in one run, '
                   'the official side built once): both (3 images), shape (color = face), '
                   'color (shape = face), same (one image)')
    p.add_argument('--swap', action='store_true', help='--e2e: also the `swap` composite (one graph after the per-image '
                   'graphs): PSNR vs the official swap, max-abs vs the split chain, and its rows at batch 2 (this mode '
                   'stacked with mode `same`) vs batch 1')
    p.add_argument('--swap-fp16', action='store_true', help='--swap: also swap_fp16 (to_fp16.py --only swap) on the '
                   'same feeds, computed as on a GPU (fp16.emulate_half): max-abs vs the fp32 swap, PSNR vs the official')
    p.add_argument('--ts', action='store_true', help='--e2e: compare with `node bin/hairstyler.js transfer --aligned` '
                   '(run `npm run build` first) instead of the Python graph chain; inputs are 8-bit exact')
    p.add_argument('--ts-models-dir', type=Path, help="MODELS_DIR for --ts (default: --models' parent, which must hold "
                   'hairfast/manifest.json)')
    p.add_argument('--tree', type=Path, help='official-format tree (official_tree.py --out): the official side reads it '
                   'through HairFast\'s own constructor and loaders')
    p.add_argument('--tree-loader', choices=('hairfast', 'lines'), default='hairfast',
                   help='lines: only the official loading lines of each graph\'s file (trees with some files)')
    p.add_argument('--precision', choices=('fp32', 'fp16'), default='fp32',
                   help='fp16: the <name>_fp16 graphs, computed as on a GPU (fp16.emulate_half); with --ts the '
                   'TypeScript runtime runs the fp16 files themselves (HAIR_PRECISION=fp16, CPU EP)')
    args = p.parse_args(argv)
    contract = load_contract()
    files = GraphFiles(args.models, args.precision)
    args.swap_fp16 = GraphFiles(args.models, 'fp16') if args.swap_fp16 else None
    manifest = json.loads((args.models / 'manifest.json').read_text())
    names = [n for n in args.only.split(',') if n] or [n for n in contract['graphs'] if n in manifest['models']]
    refs = References(args.src, args.seed, tree=args.tree, loader=args.tree_loader)
    if refs.hf is not None:
        emit({'event': 'official_constructed', 'seconds': refs.construct_s, 'tree': str(args.tree)}, args.json)
    torch.set_grad_enabled(False)
    if args.e2e:
        modes = args.mode.split(',')
        done = {}
        if refs.hf is not None:
            # every official result first, then the officially built HairFast is dropped: it and the TypeScript
            # side's 16 sessions would not fit in memory together (both hold all weights)
            for mode in modes:
                face, shape, color = mode_images(mode, args.seed, eight_bit=args.ts)
                t0 = time.time()
                done[mode] = (official_swap(refs, face, shape, color).detach().clone(), time.time() - t0)
            refs.hf = refs.o = None
            import gc
            gc.collect()
        rc = 0
        for mode in modes:
            rc = rc or e2e(args, refs, files, mode, done.get(mode))
        return rc
    return per_graph(args, refs, files, names, contract)


def modes_arg(value: str) -> str:
    bad = [m for m in value.split(',') if m not in MODES]
    if bad:
        raise argparse.ArgumentTypeError(f'Expected modes from {MODES} for --mode but received {bad}')
    return value


def e2e(args, refs, files, mode: str, official=None) -> int:
    args = argparse.Namespace(**dict(vars(args), mode=mode))
    face, shape, color = mode_images(args.mode, args.seed, eight_bit=args.ts)
    if official is None:
        t0 = time.time()
        want = official_swap(refs, face, shape, color)
        official_s = time.time() - t0
    else:
        want, official_s = official
    if args.ts:
        models_dir = args.ts_models_dir or args.models.parent
        with tempfile.TemporaryDirectory(prefix='parity-ts-') as work:
            got, report = ts_swap(models_dir, face, shape, color, Path(work), args.precision)
        psnr, max_abs = psnr_of(got, want.reshape(got.shape))
        psnr_png, max_abs_png = psnr_of(report.pop('png'), want.reshape(got.shape))
        row = {'graph': 'end_to_end', 'side': 'hairstyler transfer --aligned', 'precision': args.precision,
               'official': official_side(refs, args),
               'ts_precision': report.get('precision'), 'mode': args.mode, 'seed': args.seed,
               'inputs': '8-bit', 'official_cpu_s': round(official_s, 1), 'psnr_db': round(psnr, 2), 'max_abs': max_abs,
               'psnr_png_db': round(psnr_png, 2), 'max_abs_png': max_abs_png, 'official_image_std': float(want.std()),
               'ts_wall_s': report['wall_s'], 'ts_load_ms': report.get('loadMs'), 'ts_total_ms': report['timings']['total'],
               'ts_model_kind': report['modelKind'], 'ts_graph_runs': report['graphRuns'], 'ts_command': report['command']}
        emit(row, args.json)
        return 0
    t0 = time.time()
    got, times = graph_swap(files, face, shape, color)
    graphs_s = time.time() - t0
    psnr, max_abs = psnr_of(got, want)
    if args.swap:
        t0 = time.time()
        merged, mtimes = graph_swap(files, face, shape, color, merged=True)
        merged_s = time.time() - t0
        m_psnr, m_max_abs = psnr_of(merged, want)
        other = mode_images('same', args.seed + 1)
        _, otimes = graph_swap(files, *other, merged=True)
        feeds = mtimes.pop('swap_feeds')
        other_feeds = otimes.pop('swap_feeds')
        other_alone, _ = run_ort(files('swap'), other_feeds)
        both, _ = run_ort(files('swap'), {k: np.concatenate([feeds[k], other_feeds[k]]) for k in feeds})
        batch2 = max(float(np.abs(both['image'][0] - merged).max()),
                     float(np.abs(both['image'][1] - other_alone['image'][0]).max()))
        row = {'graph': 'swap', 'precision': args.precision, 'mode': args.mode, 'seed': args.seed,
               'psnr_db_vs_official': round(m_psnr, 2), 'max_abs_vs_official': m_max_abs,
               'max_abs_vs_split_chain': float(np.abs(merged - got).max()), 'split_psnr_db_vs_official': round(psnr, 2),
               'batch2_rows_max_abs_vs_batch1': batch2, 'swap_wall_s': round(merged_s, 1),
               'ort_run_ms': {k: round(v, 1) for k, v in mtimes.items()}}
        if args.swap_fp16:
            # swap_fp16 on the same feeds (the fp32 per-image graphs' outputs), computed as on a GPU
            half, ms16 = run_ort(args.swap_fp16('swap'), feeds)
            h_psnr, h_max_abs = psnr_of(half['image'][0], want)
            row['fp16'] = {'max_abs_vs_fp32_swap': float(np.abs(half['image'][0] - merged).max()),
                           'finite': bool(np.isfinite(half['image']).all()), 'psnr_db_vs_official': round(h_psnr, 2),
                           'max_abs_vs_official': h_max_abs, 'emulated_run_ms': round(ms16, 1)}
        emit(row, args.json)
    row = {'graph': 'end_to_end', 'precision': args.precision, 'mode': args.mode, 'seed': args.seed,
           'official': official_side(refs, args),
           'official_cpu_s': round(official_s, 1),
           'graphs_wall_s': round(graphs_s, 1), 'ort_run_ms': {k: round(v, 1) for k, v in times.items()},
           'psnr_db': round(psnr, 2), 'max_abs': max_abs,
           'official_image_std': float(want.std())}
    emit(row, args.json)
    return 0


def per_graph(args, refs, files, names, contract) -> int:
    for name in names:
        spec = contract['graphs'][name]
        inputs = example_inputs(spec, seed=args.seed)
        t0 = time.time()
        want = getattr(refs, name)(*[t.clone() for t in inputs])
        official_s = time.time() - t0
        got, ort_ms = run_ort(files(name), feeds_of(spec, inputs))
        row = {'graph': name, 'precision': args.precision, 'seed': args.seed, 'official': official_side(refs, args),
               'official_cpu_s': round(official_s, 2), 'ort_cpu_ms': round(ort_ms, 1),
               'outputs': output_errors(spec, got, {s['name']: w.detach().cpu().numpy() for s, w in zip(spec['outputs'], want)})}
        emit(row, args.json)
    return 0


if __name__ == '__main__':
    sys.exit(main())

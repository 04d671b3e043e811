"""The contract's graphs as nn.Modules over the official networks (built by official.Official).

Each builder returns a module whose forward takes the contract inputs in order and returns its outputs in order.
All resizes, one-hots, label remaps, dilate/erode and F compositions of the official flow live here.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn
import torch.nn.functional as F

from . import ops
from .sean import DenseACE, class_means, select_codes
from .stylegan import Generator

GRAPH_NAMES = ('bisenet', 'embed', 'sean_encode', 'rotate', 'ctrl_face_enc', 'ctrl_hair_enc', 'ctrl_decode',
               'sean_decode', 'e4e', 'align_f', 'blend_masks', 'clip_visual', 'color_mod', 'g_f32_to_img', 'refine',
               'g_f64_to_img')
HAIR = 13
SMOOTH = 5  # hair_swap.py --smooth
MIXING = 0.95  # hair_swap.py --mixing
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def _normalize(x: torch.Tensor, mean, std) -> torch.Tensor:
    m = torch.tensor(mean, dtype=x.dtype, device=x.device).reshape(1, 3, 1, 1)
    s = torch.tensor(std, dtype=x.dtype, device=x.device).reshape(1, 3, 1, 1)
    return (x - m) / s


def label_remap_table() -> torch.Tensor:
    """BiSeNet label -> CelebA label, from the official lists (FaceParsing_tensor.swap_parsing_label_to_celeba_mask)."""
    from models.CtrlHair.global_value_utils import PARSING_LABEL_LIST
    from models.CtrlHair.external_code.face_parsing.my_parsing_util import FaceParsing_tensor
    names = list(FaceParsing_tensor.label_list.values())
    return torch.tensor([PARSING_LABEL_LIST.index(n) for n in names], dtype=torch.long)


class PoolToSize(nn.Module):
    """AdaptiveAvgPool2d replacement sized at trace time from the (static) input shape."""

    def __init__(self, out_hw: tuple[int, int]):
        super().__init__()
        self.out_hw = out_hw

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = int(x.shape[2]), int(x.shape[3])
        ph = ops.adaptive_pool_matrix(h, self.out_hw[0]).to(device=x.device, dtype=x.dtype)
        pw = ops.adaptive_pool_matrix(w, self.out_hw[1]).to(device=x.device, dtype=x.dtype)
        return torch.matmul(torch.matmul(ph, x), pw.t())


def _parse(bisenet: nn.Module, x: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    logits = bisenet(_normalize(x, IMAGENET_MEAN, IMAGENET_STD))[0]
    labels = torch.argmax(logits, dim=1, keepdim=True)
    return ops.nearest_resize(ops.remap_labels(labels, table), (256, 256))


def _hair(mask: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return (mask == HAIR).to(dtype)


def _dtype(module: nn.Module) -> torch.dtype:
    return next(module.parameters()).dtype


class BisenetGraph(nn.Module):
    def __init__(self, bisenet, table):
        super().__init__()
        self.bisenet, self.down2 = bisenet, ops.BicubicDownsample(2)
        self.register_buffer('table', table, persistent=False)

    def forward(self, image):
        return _parse(self.bisenet, self.down2(image), self.table)


class RotateGraph(nn.Module):
    def __init__(self, rotate, gen: Generator, bisenet, table):
        super().__init__()
        self.rotate, self.gen, self.bisenet = rotate, gen, bisenet
        self.register_buffer('table', table, persistent=False)

    def forward(self, w_face, w_other):
        rot = torch.cat([self.rotate(w_other[:, :6], w_face[:, :6]), w_other[:, 6:]], dim=1)
        image, _ = self.gen.synthesize(rot)
        return _parse(self.bisenet, ((image + 1) / 2).clamp(0, 1), self.table)


class CtrlFaceEnc(nn.Module):
    def __init__(self, mask_gen):
        super().__init__()
        self.enc = mask_gen.face_encoder
        self.register_buffer('pos', mask_gen.face_encoder.input_embedding[:1].clone(), persistent=False)

    def forward(self, mask):
        oh = ops.one_hot(mask, 19, _dtype(self.enc))
        face = torch.cat([oh[:, :HAIR], oh[:, HAIR + 1:]], dim=1)
        pos = self.pos.to(face.dtype).expand(face.shape[0], -1, -1, -1)
        feature = self.enc.layers(torch.cat([face, pos], dim=1)).flatten(1)
        return self.enc.out_layer(feature)


class CtrlHairEnc(nn.Module):
    def __init__(self, mask_gen):
        super().__init__()
        self.enc = mask_gen.hair_encoder
        self.register_buffer('pos', mask_gen.hair_encoder.input_embedding[:1].clone(), persistent=False)

    def forward(self, mask):
        hair = _hair(mask, _dtype(self.enc))
        pos = self.pos.to(hair.dtype).expand(hair.shape[0], -1, -1, -1)
        feature = self.enc.layers(torch.cat([hair, pos], dim=1)).flatten(1)
        return self.enc.out_layer(feature)  # the VAE mean (forward_hair_encoder(testing=True))


class CtrlDecode(nn.Module):
    def __init__(self, mask_gen):
        super().__init__()
        self.gen = mask_gen

    def forward(self, face_code, hair_code):
        probs = self.gen.forward_decode_by_code(hair_code, face_code)
        return torch.argmax(probs, dim=1, keepdim=True)


class SeanEncode(nn.Module):
    def __init__(self, sean_g):
        super().__init__()
        self.model = sean_g.Zencoder.model

    def forward(self, image_256, mask):
        codes = self.model(image_256)
        seg = ops.nearest_resize(ops.one_hot(mask, 19, codes.dtype), (codes.shape[2], codes.shape[3]))
        return class_means(codes, seg)


def _strip_spectral_norm(module: nn.Module) -> None:
    for m in module.modules():
        if hasattr(m, 'weight_orig'):
            torch.nn.utils.remove_spectral_norm(m)


class SeanDecode(nn.Module):
    def __init__(self, sean_g, mean_codes):
        super().__init__()
        _strip_spectral_norm(sean_g)
        for block_name in ['head_0', 'G_middle_0', 'G_middle_1', 'up_0', 'up_1', 'up_2', 'up_3']:
            block = getattr(sean_g, block_name)
            for ace_name in ['ace_0', 'ace_1', 'ace_s']:
                if hasattr(block, ace_name):
                    setattr(block, ace_name, DenseACE.from_official(getattr(block, ace_name)))
        self.g = sean_g
        self.register_buffer('mean_codes', mean_codes.clone(), persistent=False)

    def forward(self, codes, target_mask):
        g = self.g
        sel = select_codes(codes, self.mean_codes)
        seg = ops.one_hot(target_mask, 19, codes.dtype)
        # one target mask for every code set (the split graph: face and shape codes): broadcast to the codes' batch
        # by a product with ones, not expand(B, -1, -1, -1), whose export loses the channel count that the ACE's
        # batch norm needs under a symbolic batch (the swap composite)
        x = g.fc(ops.nearest_resize(seg, (g.sh, g.sw))) * torch.ones_like(codes[:, :1, :1]).unsqueeze(-1)
        x = g.head_0(x, seg, None, sel)
        x = g.up(x)
        x = g.G_middle_0(x, seg, None, sel)
        x = g.G_middle_1(x, seg, None, sel)
        for name in ['up_0', 'up_1', 'up_2', 'up_3']:
            x = g.up(x)
            x = getattr(g, name)(x, seg, None, sel)
        return torch.tanh(g.conv_img(F.leaky_relu(x, 2e-1)))


class E4EGraph(nn.Module):
    def __init__(self, e4e, latent_avg, gen: Generator):
        super().__init__()
        self.e4e, self.gen = e4e, gen
        self.register_buffer('latent_avg', latent_avg.reshape(1, 18, 512).clone(), persistent=False)

    def forward(self, images):
        w = self.e4e(images) + self.latent_avg
        f, _ = self.gen.synthesize(w, 0, 3)
        return w, f


def _fs_pool_fix(fs_enc: nn.Module) -> nn.Module:
    fs_enc.avg_pool = PoolToSize((3, 3))
    return fs_enc


class EmbedGraph(nn.Module):
    def __init__(self, e4e, e4e_avg, fs_enc, fs_avg, gen: Generator):
        super().__init__()
        self.e4e, self.fs, self.gen = e4e, _fs_pool_fix(fs_enc), gen
        self.down4 = ops.BicubicDownsample(4)
        self.register_buffer('e4e_avg', e4e_avg.reshape(1, 18, 512).clone(), persistent=False)
        self.register_buffer('fs_avg', fs_avg.reshape(1, -1, 512).clone(), persistent=False)

    def forward(self, image, mask):
        im_256 = self.down4(image)
        im_256_norm = (im_256 - 0.5) / 0.5
        w = self.e4e(im_256_norm) + self.e4e_avg
        x = (image - 0.5) / 0.5
        for size in (512, 256):  # FeatureStyleEncoder trainer.downscale(x, 2, 'bilinear'): two x0.5 steps
            x = F.interpolate(x, size=(size, size), mode='bilinear')
        s_raw, fea = self.fs(x)
        s = s_raw + self.fs_avg
        f, _ = self.gen.synthesize(s, 3, 3, layer_in=fea)
        f_w, _ = self.gen.synthesize(w, 0, 3)
        hm32 = F.interpolate(_hair(mask, image.dtype), size=(32, 32), mode='bicubic')
        f_mix = f + MIXING * hm32 * (f_w - f)
        return w, s, f, f_mix, im_256, im_256_norm


class AlignF(nn.Module):
    """Per row of a batch (swap stacks requests on dim 0): f_e4e holds each row's (face, shape) pair."""

    def forward(self, f_face, f_shape, f_e4e, mask_face, mask_shape, target_mask):
        hm1, hm2, hmx = _hair(mask_face), _hair(mask_shape), _hair(target_mask)
        masks = torch.cat([1 - (1 - hm1) * (1 - hmx), hmx, hm2 * hmx], dim=1)
        h, w = int(masks.shape[2]), int(masks.shape[3])
        dilate, erode = ops.dilate_erode(masks.reshape(-1, 1, h, w), SMOOTH)
        dilate, erode = dilate.reshape(-1, 3, h, w), erode.reshape(-1, 3, h, w)
        free = torch.cat([dilate[:, 0:1], erode[:, 1:2], erode[:, 2:3]], dim=1).to(f_face.dtype)
        low = 1 - F.interpolate(free, size=(32, 32), mode='bicubic')
        # f_e4e: the rows' faces, then their shapes (the split graph's batch-1 [face, shape] is the same layout)
        inter, out_new = f_e4e.chunk(2, dim=0)
        fa = inter + low[:, 0:1] * (f_face - inter)
        fa = out_new + low[:, 1:2] * (fa - out_new)
        return f_shape + low[:, 2:3] * (fa - f_shape)


class BlendMasks(nn.Module):
    """Per row of a batch (swap stacks requests on dim 0)."""

    def forward(self, image_norm_face, image_norm_color, mask_face, mask_color, target_mask):
        both = torch.cat([_hair(mask_face), _hair(mask_color)], dim=1)
        h, w = int(both.shape[2]), int(both.shape[3])
        d, e = ops.dilate_erode(both.reshape(-1, 1, h, w), SMOOTH)
        d, e = d.reshape(-1, 2, h, w), e.reshape(-1, 2, h, w)
        hm_1d, hm_3d, hm_3e = d[:, 0:1], d[:, 1:2], e[:, 1:2]
        hm_xd, _ = ops.dilate_erode(_hair(target_mask), SMOOTH)
        keep = ((1 - hm_1d) * (1 - hm_3d) * (1 - hm_xd)).to(image_norm_face.dtype)
        return image_norm_face * keep, image_norm_color * hm_3e.to(image_norm_color.dtype)


class ClipVisual(nn.Module):
    def __init__(self, vit):
        super().__init__()
        self.vit = vit
        self.pool = ops.ExactAdaptiveAvgPool2d((256, 256), (224, 224))

    def forward(self, image):
        x = self.pool(image) * 0.5 + 0.5
        return self.vit(_normalize(x, CLIP_MEAN, CLIP_STD))


class ColorMod(nn.Module):
    def __init__(self, blending):
        super().__init__()
        self.pixelnorm = blending.pixelnorm
        self.mods = blending.modulation_module_list

    def forward(self, s_face, s_color, emb_face, emb_color):
        latent_in = torch.cat([s_color[:, 6:], emb_face.unsqueeze(1).expand(-1, 12, -1),
                               emb_color.unsqueeze(1).expand(-1, 12, -1)], dim=-1)
        face = s_face[:, 6:]
        dt = self.pixelnorm(face)
        for m in self.mods:
            dt = m(dt, latent_in)
        return torch.cat([s_face[:, :6], face + 0.1 * dt], dim=1)


class GF32ToImg(nn.Module):
    def __init__(self, gen: Generator):
        super().__init__()
        self.gen, self.down4 = gen, ops.BicubicDownsample(4)

    def forward(self, s, f):
        image, _ = self.gen.synthesize(s, 4, 8, layer_in=f)
        return self.down4(image)


class Refine(nn.Module):
    def __init__(self, pp):
        super().__init__()
        import models.Net as net_mod
        # FeatureEncoderMult resizes its input to 256 (torchvision Resize); refine's inputs are 256 already, where
        # bilinear resampling is the identity. Skipping it keeps the exported shapes static (parity.py checks it).
        net_mod.transform_to_256 = lambda x: x if tuple(x.shape[-2:]) == (256, 256) else _tv_resize_256(x)
        _fs_pool_fix(pp.encoder_face)
        self.pp = pp

    def forward(self, image_norm_face, blend_256):
        return self.pp(image_norm_face, blend_256)


def _tv_resize_256(x):
    from torchvision import transforms
    return transforms.Resize((256, 256))(x)


class GF64ToImg(nn.Module):
    def __init__(self, gen: Generator):
        super().__init__()
        self.gen = gen

    def forward(self, s, f):
        image, _ = self.gen.synthesize(s, 5, 8, layer_in=f)
        return ((image + 1) / 2).clamp(0, 1)


SWAP_PARTS = ('sean_encode', 'rotate', 'ctrl_face_enc', 'ctrl_hair_enc', 'ctrl_decode', 'sean_decode', 'e4e', 'align_f',
              'blend_masks', 'clip_visual', 'color_mod', 'g_f32_to_img', 'refine', 'g_f64_to_img')


def _rows(flag: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return flag.reshape(-1, *([1] * (like.dim() - 1)))


def _either(flag: torch.Tensor, when_true: torch.Tensor, when_false: torch.Tensor) -> torch.Tensor:
    return torch.where(_rows(flag, when_true), when_true, when_false)


class SwapGraph(nn.Module):
    """graphs.contract.json composites.swap: the split graphs' own modules, wired as the split chain of
    src/pipeline/hairfast/hair-fast.ts (the official Alignment/Blending flow), over a batch of independent rows.
    shape_is_face / color_is_face take the face's tensors for that role, as the official code passes the face as its
    own shape or colour; F is unmixed when the face plays every role (Embedding mixes only for > 1 image)."""

    def __init__(self, parts: dict):
        super().__init__()
        self.p = nn.ModuleDict({name: parts[name] for name in SWAP_PARTS})

    def shape_module(self, face_w, face_code, w_other):
        rot_mask = self.p['rotate'](face_w, w_other)
        return self.p['ctrl_decode'](face_code, self.p['ctrl_hair_enc'](rot_mask))

    def forward(self, face_mask, face_w, face_s, face_f, face_f_mix, face_image_256, face_image_norm_256,
                shape_is_face, shape_w, shape_mask, shape_f_mix, shape_codes,
                color_is_face, color_w, color_s, color_mask, color_image_norm_256, color_clip):
        p = self.p
        face_codes = p['sean_encode'](face_image_256, face_mask)
        s_w = _either(shape_is_face, face_w, shape_w)
        s_mask = _either(shape_is_face, face_mask, shape_mask)
        s_codes = _either(shape_is_face, face_codes, shape_codes)
        c_w = _either(color_is_face, face_w, color_w)
        c_s = _either(color_is_face, face_s, color_s)
        c_mask = _either(color_is_face, face_mask, color_mask)
        c_norm = _either(color_is_face, face_image_norm_256, color_image_norm_256)
        f_face = _either(torch.logical_and(shape_is_face, color_is_face), face_f, face_f_mix)
        f_shape = _either(shape_is_face, f_face, shape_f_mix)

        face_code = p['ctrl_face_enc'](face_mask)
        target_shape = self.shape_module(face_w, face_code, s_w)
        # every row's face codes, then every row's shape codes (at batch 1 the split graph's [face, shape]), decoded
        # against each row's target mask. Concatenated, not stacked and reshaped: torch.onnx loses the shape of a
        # reshape's output under a symbolic batch, and the ACE's param-free batch norms need the channel count
        # ("batch_norm for unknown channel size")
        codes = torch.cat([face_codes, s_codes], dim=0)
        pair_target = torch.cat([target_shape, target_shape], dim=0)
        images = p['sean_decode'](codes, pair_target)
        _, f_e4e = p['e4e'](images)
        f_align = p['align_f'](f_face, f_shape, f_e4e, face_mask, s_mask, target_shape)

        target_color = self.shape_module(face_w, face_code, c_w)
        face_masked, color_masked = p['blend_masks'](face_image_norm_256, c_norm, face_mask, c_mask, target_color)
        emb_face = p['clip_visual'](face_masked)
        # a colour reference brings its own CLIP embedding (its preset cache); the face's is this request's
        emb_color = _either(color_is_face, p['clip_visual'](color_masked), color_clip)
        s_blend = p['color_mod'](face_s, c_s, emb_face, emb_color)
        blend_256 = p['g_f32_to_img'](s_blend, f_align)
        s_final, f_final = p['refine'](face_image_norm_256, blend_256)
        return p['g_f64_to_img'](s_final, f_final), target_color


def affine_layer_norms(module: nn.Module) -> nn.Module:
    """LayerNorm(elementwise_affine=False) -> weight 1, bias 0 (same values; torch 1.13's opset-17 export of the
    affine-free form emits an invalid LayerNormalization node)."""
    for m in module.modules():
        if isinstance(m, nn.LayerNorm) and not m.elementwise_affine:
            m.elementwise_affine = True
            m.weight = nn.Parameter(torch.ones(m.normalized_shape))
            m.bias = nn.Parameter(torch.zeros(m.normalized_shape))
    return module


def export_generator(official) -> Generator:
    sd, _ = official.generator_state()
    g = Generator(1024, 512, 8, channel_multiplier=2)
    g.load_state_dict(sd)
    return g.eval()


class Builders:
    """Lazily built official networks shared between graphs of one export run."""

    def __init__(self, official):
        self.o = official
        self._cache: dict[str, object] = {}

    def get(self, key: str, make: Callable[[], object]):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def gen(self) -> Generator:
        return self.get('gen', lambda: export_generator(self.o))

    def table(self):
        return self.get('table', label_remap_table)

    def build(self, name: str) -> nn.Module:
        return affine_layer_norms(self._build(name))

    def _build(self, name: str) -> nn.Module:
        o = self.o
        if name == 'bisenet':
            return BisenetGraph(self.get('bisenet', o.bisenet), self.table())
        if name == 'rotate':
            return RotateGraph(self.get('rotate', o.rotate_model), self.gen(), self.get('bisenet', o.bisenet), self.table())
        if name == 'ctrl_face_enc':
            return CtrlFaceEnc(self.get('ctrl', o.mask_generator))
        if name == 'ctrl_hair_enc':
            return CtrlHairEnc(self.get('ctrl', o.mask_generator))
        if name == 'ctrl_decode':
            return CtrlDecode(self.get('ctrl', o.mask_generator))
        if name == 'sean_encode':
            return SeanEncode(self.get('sean', o.sean_generator))
        if name == 'sean_decode':
            return SeanDecode(o.sean_generator(), o.sean_mean_codes())
        if name == 'e4e':
            enc, avg = self.get('e4e', o.e4e)
            return E4EGraph(enc, avg, self.gen())
        if name == 'embed':
            enc, avg = self.get('e4e', o.e4e)
            fs, fs_avg = self.get('fs', o.fs_encoder)
            return EmbedGraph(enc, avg, fs, fs_avg, self.gen())
        if name == 'align_f':
            return AlignF()
        if name == 'blend_masks':
            return BlendMasks()
        if name == 'clip_visual':
            return ClipVisual(self.get('vit', o.clip_visual))
        if name == 'color_mod':
            return ColorMod(self.get('blend', o.blending_encoder))
        if name == 'g_f32_to_img':
            return GF32ToImg(self.gen())
        if name == 'refine':
            return Refine(self.get('pp', o.post_process))
        if name == 'g_f64_to_img':
            return GF64ToImg(self.gen())
        if name == 'swap':
            return SwapGraph({part: self._build(part) for part in SWAP_PARTS})
        raise KeyError(f'Expected a graph name from the contract for name but received {name!r}')


def example_inputs(graph: dict, seed: int = 0, dtype: torch.dtype = torch.float32, batch: int = 2) -> tuple[torch.Tensor, ...]:
    """Inputs shaped by the contract (a symbolic dim is `batch`): float tensors in the ranges the flow produces,
    masks with face-like labels, flags alternating."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for spec in graph['inputs']:
        shape = [batch if isinstance(d, str) else d for d in spec['shape']]
        if spec['dtype'] == 'bool':
            out.append(torch.arange(shape[0]) % 2 == 1)  # a batch of both values
        elif spec['dtype'] == 'int64':
            labels = torch.randint(0, 19, shape, generator=g)
            # a blob of hair (13) so hair masks are non-empty
            labels[..., 40:120, 60:200] = HAIR
            out.append(labels)
        elif spec['name'] in ('image',) and shape[-1] == 1024:
            out.append(torch.rand(shape, generator=g).to(dtype))
        elif len(shape) == 4 and shape[1] == 3:
            out.append((torch.rand(shape, generator=g) * 2 - 1).to(dtype))
        else:
            out.append((torch.randn(shape, generator=g) * 0.5).to(dtype))
    return tuple(out)

#!/usr/bin/env python3
"""Build a `pretrained_models/` tree in the official HairFastGAN file formats from seeded random-init official modules.

  official_tree.py --src /tmp/hairfast-src --out /tmp/tree --seed 0            # full tree (~6 GB, what HairFast reads)
  official_tree.py --src ... --out /tmp/tree-ci --only ctrl_face_enc,ctrl_decode   # only what these graphs need
  official_tree.py --list [--only ...]                                          # the files, nothing written

Every file has the name, dict keys and nesting the official loaders read (models/Net.py load_weights, Alignment,
Blending, Embedding -> FSencoder.get_trainer / setup_model, Pix2PixModel, FaceParsing_tensor, PostProcessModel); the
networks are the official classes built by hairfast_export.official.Official in random mode, so an export of this
tree and `export.py --random-weights` with the same seed give the same graphs. CLIP goes to `<out>/clip/ViT-B-32.pt`,
a TorchScript archive with CLIP's state-dict names (the format of OpenAI's file that clip.load reads; fp16 like it).
`<out>/pretrained_models/.hairstyler-tree.json` marks the tree as random weights (export.py then writes kind
"random", never "official"), and records each file written: a rerun skips files already complete (resumable).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from hairfast_export.official import Official  # noqa: E402

MARKER = '.hairstyler-tree.json'
CLIP_REL = '../clip/ViT-B-32.pt'  # relative to pretrained_models/: CLIP is not part of the official tree
# torchvision's resnet18 as torch hub caches it (TORCH_HOME=<out>/torch-hub): both BiSeNets load it at construction
TORCH_HUB_REL = '../torch-hub/hub/checkpoints/resnet18-5c106cde.pth'

# file -> graphs whose export reads it (export.py --checkpoints); [] = read only by the official constructors
FILES: dict[str, list[str]] = {
    'StyleGAN/ffhq.pt': ['rotate', 'e4e', 'embed', 'g_f32_to_img', 'g_f64_to_img'],
    'StyleGAN/ffhq_PCA.npz': [],
    'BiSeNet/face_parsing_79999_iter.pth': ['bisenet', 'rotate'],
    'Rotate/rotate_best.pth': ['rotate'],
    'ShapeAdaptor/mask_generator.pth': ['ctrl_face_enc', 'ctrl_hair_enc', 'ctrl_decode'],
    'sean_checkpoints/CelebA-HQ_pretrained/latest_net_G.pth': ['sean_encode', 'sean_decode'],
    'Blending/checkpoint.pth': ['clip_visual', 'color_mod'],
    CLIP_REL: ['clip_visual'],
    'encoder4editing/e4e_ffhq_encode.pt': ['e4e', 'embed'],
    'FeatureStyleEncoder/143_enc.pth': ['embed'],
    'FeatureStyleEncoder/psp_ffhq_encode.pt': ['embed'],
    'FeatureStyleEncoder/backbone.pth': [],
    'FeatureStyleEncoder/79999_iter.pth': [],
    'PostProcess/pp_model.pth': ['refine'],
    'PostProcess/latent_avg.pt': ['refine'],
    'ArcFace/backbone_ir50.pth': [],
    TORCH_HUB_REL: [],
}


def files_for(graphs: list[str] | None) -> list[str]:
    if not graphs:
        return list(FILES)
    return [f for f, users in FILES.items() if any(g in users for g in graphs)]


class TreeBuilder:
    def __init__(self, src: Path, out: Path, seed: int):
        self.o = Official(src, None, seed)
        self._made: dict[str, object] = {}
        self.src = Path(src)
        fse = str(self.src.resolve() / 'models' / 'FeatureStyleEncoder')  # FSencoder.py imports from its own directory
        if fse not in sys.path:
            sys.path.insert(0, fse)
        self.root = Path(out) / 'pretrained_models'
        self.seed = seed

    def _seed(self, salt: int) -> None:
        torch.manual_seed(self.seed * 1000 + salt)

    def _memo(self, key: str, make):
        if key not in self._made:
            self._made[key] = make()
        return self._made[key]

    def _generator_1024(self, cls, salt: int) -> dict:
        self._seed(salt)
        g = cls(1024, 512, 8, channel_multiplier=2) if 'channel_multiplier' in cls.__init__.__code__.co_varnames \
            else cls(1024, 512, 8)
        return g.state_dict()

    def content(self, rel: str):
        """The object the official loader reads from `rel` (torch.save'd unless noted)."""
        o = self.o
        if rel == 'StyleGAN/ffhq.pt':
            g_ema, latent_avg = o.generator_state()
            return {'g_ema': g_ema, 'latent_avg': latent_avg}
        if rel == 'StyleGAN/ffhq_PCA.npz':
            return self._pca()
        if rel == 'BiSeNet/face_parsing_79999_iter.pth':
            return o.bisenet().state_dict()
        if rel == 'Rotate/rotate_best.pth':
            return {'model_state_dict': o.rotate_model().state_dict()}
        if rel == 'ShapeAdaptor/mask_generator.pth':
            return o.mask_generator().state_dict()
        if rel == 'sean_checkpoints/CelebA-HQ_pretrained/latest_net_G.pth':
            return o.sean_generator().state_dict()
        if rel == 'Blending/checkpoint.pth':
            sd = o.blending_encoder().state_dict()
            return {'model_state_dict': {k: v for k, v in sd.items() if not k.startswith('clip_model.')},
                    'clip': 'ViT-B/32'}
        if rel == CLIP_REL:
            return None  # written by _write_clip
        if rel == 'encoder4editing/e4e_ffhq_encode.pt':
            enc, avg = o.e4e()
            from models.stylegan2.model import Generator
            state = {f'encoder.{k}': v for k, v in enc.state_dict().items()}
            state.update({f'decoder.{k}': v for k, v in self._generator_1024(Generator, 11).items()})
            # pSp(opts) reads these options (setup_model: ckpt['opts'] as a plain dict)
            opts = {'encoder_type': 'Encoder4Editing', 'stylegan_size': 1024, 'start_from_latent_avg': True,
                    'checkpoint_path': None, 'input_nc': 3, 'output_size': 1024}
            return {'state_dict': state, 'latent_avg': avg, 'opts': opts}
        if rel == 'FeatureStyleEncoder/143_enc.pth':
            return self._memo('fs', o.fs_encoder)[0].state_dict()
        if rel == 'FeatureStyleEncoder/psp_ffhq_encode.pt':
            # pixel2style2pixel's FFHQ checkpoint: its encoder (GradualStyleEncoder) + decoder, latent_avg, opts;
            # Trainer.initialize reads decoder.* and latent_avg
            _, avg = self._memo('fs', o.fs_encoder)
            from pixel2style2pixel.models.stylegan2.model import Generator as P2SGenerator
            from models.encoder4editing.models.encoders.psp_encoders import GradualStyleEncoder
            opts = {'encoder_type': 'GradualStyleEncoder', 'stylegan_size': 1024, 'start_from_latent_avg': True,
                    'input_nc': 3, 'output_size': 1024}
            self._seed(18)
            state = {f'encoder.{k}': v for k, v in
                     GradualStyleEncoder(50, 'ir_se', argparse.Namespace(**opts)).state_dict().items()}
            state.update({f'decoder.{k}': v for k, v in self._generator_1024(P2SGenerator, 12).items()})
            return {'state_dict': state, 'latent_avg': avg, 'opts': opts}
        if rel == 'FeatureStyleEncoder/backbone.pth':
            from arcface.iresnet import iresnet50
            self._seed(13)
            return iresnet50().state_dict()
        if rel == 'FeatureStyleEncoder/79999_iter.pth':
            from face_parsing.model import BiSeNet
            self._seed(14)
            return BiSeNet(n_classes=19).state_dict()
        if rel == 'PostProcess/pp_model.pth':
            return {'model_state_dict': self._memo('pp', o.post_process).state_dict()}
        if rel == 'PostProcess/latent_avg.pt':
            return self._memo('pp', o.post_process).latent_avg
        if rel == TORCH_HUB_REL:
            import torchvision
            self._seed(17)
            return torchvision.models.resnet18().state_dict()
        if rel == 'ArcFace/backbone_ir50.pth':
            import models.Net as net_mod
            self._seed(15)
            return net_mod.iresnet50().state_dict()
        raise KeyError(rel)

    def _pca(self) -> dict:
        """Net.load_PCA_model's file (Net.build_PCA_model's arrays), from 20k mapped latents instead of 1M: HairFast's
        swap never uses it, but Net() builds it when it is absent (minutes)."""
        from models.stylegan2.model import Generator
        g = Generator(1024, 512, 8, channel_multiplier=2)
        g.load_state_dict(self.o.generator_state()[0])
        self._seed(16)
        with torch.no_grad():
            x = nn.LeakyReLU(5)(g.style(torch.randn(20000, 512))).numpy()
        mean = x.mean(0)
        _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
        var = s ** 2 / (len(x) - 1)
        return {'X_mean': mean, 'X_comp': vt, 'X_stdev': np.sqrt(var), 'X_var_ratio': var / var.sum()}

    def _write_clip(self, path: Path) -> None:
        vit = self.o.clip_visual()
        model = ClipArchive(vit).eval()
        # traced in float32 (the CPU has no half conv), stored in float16 as OpenAI's file is
        traced = torch.jit.trace(model, torch.zeros(1, 3, 224, 224), check_trace=False).half()
        traced.save(str(path))

    def write(self, rel: str, path: Path) -> None:
        tmp = path.with_name(path.name + '.partial')
        tmp.parent.mkdir(parents=True, exist_ok=True)
        if rel == CLIP_REL:
            self._write_clip(tmp)
        elif rel.endswith('.npz'):
            with open(tmp, 'wb') as f:
                np.savez(f, **self.content(rel))
        else:
            torch.save(self.content(rel), tmp)
        os.replace(tmp, path)


class ClipArchive(nn.Module):
    """A CLIP ViT-B/32 with the state-dict names of OpenAI's model (visual.* and the text tower's), traced to
    TorchScript like their file. The text tower is random and never run (HairFast encodes images only)."""

    def __init__(self, visual: nn.Module, width: int = 512, layers: int = 12, vocab: int = 49408, context: int = 77):
        super().__init__()
        self.visual = visual
        self.positional_embedding = nn.Parameter(torch.randn(context, width) * 0.01)
        self.text_projection = nn.Parameter(torch.randn(width, 512) * width ** -0.5)
        self.logit_scale = nn.Parameter(torch.tensor(4.6052))
        self.token_embedding = nn.Embedding(vocab, width)
        self.transformer = nn.Module()
        self.transformer.resblocks = nn.Sequential(*[_TextBlock(width) for _ in range(layers)])
        self.ln_final = nn.LayerNorm(width)

    def forward(self, image):
        return self.visual(image)


class _TextBlock(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.attn = nn.MultiheadAttention(width, width // 64)
        self.ln_1 = nn.LayerNorm(width)
        self.mlp = nn.Sequential()
        self.mlp.add_module('c_fc', nn.Linear(width, width * 4))
        self.mlp.add_module('c_proj', nn.Linear(width * 4, width))
        self.ln_2 = nn.LayerNorm(width)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--src', type=Path, help='checkout of AIRI-Institute/HairFastGAN')
    p.add_argument('--out', type=Path, help='writes <out>/pretrained_models/ and <out>/clip/ViT-B-32.pt')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--only', default='', help='comma-separated graph names: only the files their export reads')
    p.add_argument('--files', default='', help='comma-separated file paths (as --list prints them) instead of --only')
    p.add_argument('--list', action='store_true', help='print the files (and the graphs that read them) and exit')
    args = p.parse_args(argv)
    graphs = [g for g in args.only.split(',') if g]
    rels = [f for f in args.files.split(',') if f] or files_for(graphs)
    unknown = [f for f in rels if f not in FILES]
    if unknown:
        p.error(f'Expected file paths from {list(FILES)} for --files but received {unknown}')
    if args.list:
        for rel in rels:
            print(json.dumps({'file': rel, 'graphs': FILES[rel]}))
        return 0
    if not args.src or not args.out:
        p.error('--src and --out are needed to build a tree')
    builder = TreeBuilder(args.src, args.out, args.seed)
    builder.root.mkdir(parents=True, exist_ok=True)
    marker_path = builder.root / MARKER
    marker = json.loads(marker_path.read_text()) if marker_path.exists() else {}
    if marker and marker.get('seed') != args.seed:
        print(f'{marker_path} is a tree of seed {marker.get("seed")}; use another --out', file=sys.stderr)
        return 2
    marker = {'kind': 'random', 'seed': args.seed, 'builder': 'tools/hairfast-export/official_tree.py',
              'files': marker.get('files', {})}
    started = time.time()
    for i, rel in enumerate(rels):
        path = (builder.root / rel).resolve()
        if marker['files'].get(rel) and path.is_file() and path.stat().st_size == marker['files'][rel]:
            print(json.dumps({'event': 'skip', 'file': rel, 'bytes': marker['files'][rel]}), flush=True)
            continue
        t0 = time.time()
        builder.write(rel, path)
        marker['files'][rel] = path.stat().st_size
        marker_path.write_text(json.dumps(marker, indent=2) + '\n')
        print(json.dumps({'event': 'file', 'index': i, 'total': len(rels), 'file': rel, 'bytes': marker['files'][rel],
                          'seconds': round(time.time() - t0, 1)}), flush=True)
    print(json.dumps({'event': 'done', 'files': len(rels), 'bytes': sum(marker['files'].get(r, 0) for r in rels),
                      'seconds': round(time.time() - started, 1)}), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())

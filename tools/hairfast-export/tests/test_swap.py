"""The `swap` composite's wiring (hairfast_export.graphs.SwapGraph) against the split chain it replaces, with small
row-wise stand-ins for the networks (the official ones need the HairFastGAN checkout: parity.py --swap) and the real
weight-free AlignF / BlendMasks; then its export with a symbolic batch dimension, run in onnxruntime at another
batch size."""
import shutil
import tempfile
import unittest
from pathlib import Path

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

import _path  # noqa: F401  (puts tools/hairfast-export on sys.path)
from hairfast_export.graphs import SWAP_PARTS, AlignF, BlendMasks, SwapGraph, example_inputs
from hairfast_export.onnx_io import (contract_mismatches, export_onnx, load_contract, run_ort, stamp_output_shapes,
                                     symbolic_axes)

CONTRACT = load_contract()
HAS_NODE = shutil.which('node') is not None


class StandIn(nn.Module):
    """A split graph's shapes with cheap row-wise math: every input (pooled) feeds every output; a batch-1 input
    broadcasts over the rows (as sean_decode's target mask does); int64 outputs are labels 0..18."""

    def __init__(self, name: str):
        super().__init__()
        spec = CONTRACT['graphs'][name]
        gen = torch.Generator().manual_seed(sum(map(ord, name)))
        self.outs, self.in_specs = spec['outputs'], spec['inputs']
        self.ins = nn.ModuleList(nn.Linear(self.features(s), 16) for s in spec['inputs'])
        self.heads = nn.ModuleList(nn.Linear(16, self.head_size(s)) for s in self.outs)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=gen) * 0.3)

    @staticmethod
    def features(spec) -> int:
        shape = spec['shape']
        return shape[1] * 4 if len(shape) == 4 else shape[-1]

    @staticmethod
    def head_size(spec) -> int:
        shape = spec['shape']
        return shape[1] * 4 if len(shape) == 4 else int(np.prod(shape[1:]))

    @staticmethod
    def pooled(x: torch.Tensor, spec) -> torch.Tensor:
        x = x.float() / 18.0 if not x.is_floating_point() else x
        shape = spec['shape']
        if len(shape) == 4:  # 2x2 average, sized from the contract (static under tracing)
            return F.avg_pool2d(x, kernel_size=(shape[2] // 2, shape[3] // 2)).flatten(1)
        return x.mean(1) if len(shape) == 3 else x

    def forward(self, *xs):
        h = sum(lin(self.pooled(x, s)) for lin, x, s in zip(self.ins, xs, self.in_specs))
        h = torch.tanh(h)
        outs = []
        for spec, head in zip(self.outs, self.heads):
            shape = spec['shape']
            y = head(h)
            if len(shape) == 4:
                y = F.interpolate(y.reshape(-1, shape[1], 2, 2), size=tuple(shape[2:]), mode='bilinear', align_corners=False)
            else:
                y = y.reshape(-1, *shape[1:])
            if spec['dtype'] == 'int64':
                y = torch.floor(torch.sigmoid(y * 4) * 18.99).long()
            outs.append(y)
        return tuple(outs) if len(outs) > 1 else outs[0]


def parts() -> dict:
    out = {name: StandIn(name).eval() for name in SWAP_PARTS}
    out['align_f'], out['blend_masks'] = AlignF(), BlendMasks()
    return out


def split_chain(p, face, shape, color):
    """src/pipeline/hairfast/hair-fast.ts hairFastSplit, one request at batch 1 (roles: `face` itself or a preset)."""
    mixed = not (shape is face and color is face)
    f_of = (lambda e: e['f_mix']) if mixed else (lambda e: e['f'])
    codes_face = p['sean_encode'](face['image_256'], face['mask'])
    codes_shape = codes_face if shape is face else shape['codes']
    face_code = p['ctrl_face_enc'](face['mask'])

    def shape_module(other):
        return p['ctrl_decode'](face_code, p['ctrl_hair_enc'](p['rotate'](face['w'], other['w'])))

    target_shape = shape_module(shape)
    images = p['sean_decode'](torch.cat([codes_face, codes_shape]), target_shape)
    _, f_e4e = p['e4e'](images)
    f_align = p['align_f'](f_of(face), f_of(shape), f_e4e, face['mask'], shape['mask'], target_shape)
    target_color = target_shape if color is shape else shape_module(color)
    face_masked, color_masked = p['blend_masks'](face['image_norm_256'], color['image_norm_256'], face['mask'],
                                                 color['mask'], target_color)
    emb_face = p['clip_visual'](face_masked)
    emb_color = p['clip_visual'](color_masked) if color is face else color['clip']
    s_blend = p['color_mod'](face['s'], color['s'], emb_face, emb_color)
    s_final, f_final = p['refine'](face['image_norm_256'], p['g_f32_to_img'](s_blend, f_align))
    return p['g_f64_to_img'](s_final, f_final), target_color


def embedding(seed: int) -> dict:
    """One image's tensors (face and preset alike), from the swap inputs' example shapes."""
    spec = CONTRACT['composites']['swap']
    ex = dict(zip([s['name'] for s in spec['inputs']], example_inputs(spec, seed=seed, batch=1)))
    e = {k[len('face_'):]: v for k, v in ex.items() if k.startswith('face_')}
    e['codes'], e['clip'] = ex['shape_codes'], ex['color_clip']
    return e


def swap_feeds(rows):
    """The swap graph's inputs for requests (face, shape, color) stacked on dim 0, as swap.ts feeds them."""
    spec = CONTRACT['composites']['swap']
    feeds = {s['name']: [] for s in spec['inputs']}
    for face, shape, color in rows:
        for k in ('mask', 'w', 's', 'f', 'f_mix', 'image_256', 'image_norm_256'):
            feeds[f'face_{k}'].append(face[k])
        feeds['shape_is_face'].append(torch.tensor([shape is face]))
        for k in ('w', 'mask', 'f_mix'):
            feeds[f'shape_{k}'].append(shape[k])
        feeds['shape_codes'].append(torch.zeros(1, 19, 512) if shape is face else shape['codes'])
        feeds['color_is_face'].append(torch.tensor([color is face]))
        for k in ('w', 's', 'mask', 'image_norm_256'):
            feeds[f'color_{k}'].append(color[k])
        feeds['color_clip'].append(torch.zeros(1, 512) if color is face else color['clip'])
    return tuple(torch.cat(feeds[s['name']]) for s in spec['inputs'])


class SwapGraphTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.manual_seed(0)
        cls.p = parts()
        cls.swap = SwapGraph(cls.p).eval()
        a, b, c, d = (embedding(seed) for seed in (1, 2, 3, 4))
        # shape only, colour only, both, one reference for both, face for all three
        cls.rows = [(a, b, a), (a, a, c), (d, b, c), (a, b, b), (d, d, d)]

    def test_contract_names_its_parts(self):
        spec = CONTRACT['composites']['swap']
        self.assertEqual(tuple(spec['composes']), SWAP_PARTS)
        self.assertTrue(set(spec['replaces']) <= set(SWAP_PARTS))

    def test_every_row_equals_the_split_chain(self):
        with torch.no_grad():
            image, target = self.swap(*swap_feeds(self.rows))
            self.assertEqual(list(image.shape), [len(self.rows), 3, 1024, 1024])
            for i, roles in enumerate(self.rows):
                want_image, want_target = split_chain(self.p, *roles)
                self.assertLessEqual((image[i:i + 1] - want_image).abs().max().item(), 1e-5, f'row {i}')
                # labels are floors of floats: batched matmuls may move a value across a label edge in a few pixels
                self.assertLessEqual((target[i:i + 1] != want_target).float().mean().item(), 1e-3, f'row {i}')
            # the flags reach the output: each mode gives another image
            for i in range(len(self.rows)):
                for j in range(i + 1, len(self.rows)):
                    self.assertGreater((image[i] - image[j]).abs().max().item(), 1e-4, f'rows {i}, {j}')

    @unittest.skipUnless(HAS_NODE, 'needs node (onnxruntime-node) to run the exported graph')
    def test_export_has_a_batch_dimension(self):
        spec = CONTRACT['composites']['swap']
        tmp = Path(tempfile.mkdtemp(prefix='hairfast-swap-test-'))
        try:
            path = tmp / 'swap.onnx'
            traced = swap_feeds(self.rows[:2])
            export_onnx(self.swap, traced, [s['name'] for s in spec['inputs']], [s['name'] for s in spec['outputs']],
                        path, dynamic_axes=symbolic_axes(spec))
            stamp_output_shapes(path, spec)
            self.assertEqual(contract_mismatches(path, spec), [])
            feeds = swap_feeds(self.rows[2:])  # batch 3, traced at 2
            got, _ = run_ort(path, {s['name']: t.numpy() for s, t in zip(spec['inputs'], feeds)})
            with torch.no_grad():
                want_image, want_target = self.swap(*feeds)
            self.assertEqual(list(got['image'].shape), [3, 3, 1024, 1024])
            self.assertLess(np.abs(got['image'] - want_image.numpy()).max(), 1e-4)
            self.assertLessEqual(np.mean(got['target_mask_color'] != want_target.numpy()), 1e-3)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @unittest.skipUnless(HAS_NODE, 'needs node (onnxruntime-node) to run the exported graph')
    def test_exports_with_a_sean_decoder_whose_batch_norms_need_known_channels(self):
        """The real sean_decode's ACE blocks hold param-free batch norms: torch.onnx exports them only where the
        channel count is known, so the rows stacked into pairs must keep static sizes (graphs.static_dims)."""
        from hairfast_export.graphs import SeanDecode
        from test_sean import TinySeanGenerator
        spec = CONTRACT['composites']['swap']
        torch.manual_seed(0)
        p = dict(self.p, sean_decode=SeanDecode(TinySeanGenerator(start=8).eval(), torch.randn(19, 512)).eval())
        swap = SwapGraph(p).eval()
        tmp = Path(tempfile.mkdtemp(prefix='hairfast-swap-sean-'))
        self.addCleanup(shutil.rmtree, tmp, True)
        path = tmp / 'swap.onnx'
        export_onnx(swap, swap_feeds(self.rows[:2]), [s['name'] for s in spec['inputs']],
                    [s['name'] for s in spec['outputs']], path, dynamic_axes=symbolic_axes(spec))
        feeds = swap_feeds(self.rows[2:])
        got, _ = run_ort(path, {s['name']: t.numpy() for s, t in zip(spec['inputs'], feeds)})
        with torch.no_grad():
            want_image, _ = swap(*feeds)
        self.assertLess(np.abs(got['image'] - want_image.numpy()).max(), 1e-4)

    @unittest.skipUnless(HAS_NODE, 'needs node (onnxruntime-node) to run the exported graph')
    def test_fp16_variant_meets_the_target_against_fp32(self):
        """to_fp16 on the composite (bool flags, symbolic batch): swap_fp16 computed as on a GPU within 1e-2."""
        from to_fp16 import write_fp16_variant
        spec = CONTRACT['composites']['swap']
        tmp = Path(tempfile.mkdtemp(prefix='hairfast-swap-fp16-'))
        self.addCleanup(shutil.rmtree, tmp, True)
        path = tmp / 'swap.onnx'
        export_onnx(self.swap, swap_feeds(self.rows[:2]), [s['name'] for s in spec['inputs']],
                    [s['name'] for s in spec['outputs']], path, dynamic_axes=symbolic_axes(spec))
        stamp_output_shapes(path, spec)
        manifest = {'version': 1, 'models': {'swap': {'file': 'hairfast/swap.onnx', 'precision': 'fp32'}}}
        row = write_fp16_variant('swap', spec, path, manifest)
        self.assertTrue(row['meets_target'])
        self.assertLessEqual(row['vs_fp32']['image']['max_abs'], 1e-2)
        self.assertEqual(contract_mismatches(tmp / 'swap_fp16.onnx', spec), [])
        self.assertGreater(row['fp16_nodes'], 0)
        self.assertEqual(manifest['models']['swap_fp16']['precision'], 'fp16')


if __name__ == '__main__':
    unittest.main()

"""Export tiny instances of the replacement modules and the official-free contract graphs to ONNX, check them
against contract-format specs, run them in onnxruntime-node and compare with torch."""
import json
import shutil
import tempfile
import unittest
from pathlib import Path

import numpy as np
import torch
from torch import nn

import _path  # noqa: F401  (puts tools/hairfast-export on sys.path)
from hairfast_export import ops
from hairfast_export.clip_vit import VisionTransformer
from hairfast_export.graphs import GRAPH_NAMES, AlignF, BlendMasks, affine_layer_norms, example_inputs
from hairfast_export.onnx_io import contract_mismatches, export_onnx, load_contract, run_ort, stamp_output_shapes
from hairfast_export.sean import class_means, scatter_class_styles, select_codes
from hairfast_export.stylegan import Generator

HAS_NODE = shutil.which('node') is not None
TOL = 1e-4


def spec(name, dtype, shape):
    return {'name': name, 'dtype': dtype, 'shape': shape}


class TinyGenerator(nn.Module):
    """g_f32_to_img's shape at 64 px: layers 2..4 of a tiny StyleGAN2 from an 8x8 F."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.g = Generator(size=64, style_dim=8, n_mlp=1, channels={4: 8, 8: 8, 16: 8, 32: 6, 64: 4}).eval()
        with torch.no_grad():
            for n, p in self.g.named_parameters():
                if n.endswith('noise.weight') or n.endswith('bias'):
                    p.normal_(0, 0.1)

    def forward(self, s, f):
        image, _ = self.g.synthesize(s, 2, 4, layer_in=f)
        return ops.BicubicDownsample(4)(image)


class TinySeanCodes(nn.Module):
    """sean_encode + the decode-side code selection and scatter, with 19 classes and a 16-wide style."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.enc = nn.Conv2d(3, 16, 3, stride=2, padding=1)
        self.register_buffer('mean_codes', torch.randn(19, 16))

    def forward(self, image, mask):
        codes = self.enc(image)
        seg = ops.nearest_resize(ops.one_hot(mask, 19), (codes.shape[2], codes.shape[3]))
        means = class_means(codes, seg)
        selected = select_codes(means, self.mean_codes)
        return selected, scatter_class_styles(selected, seg)


class TinyClip(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.pool = ops.ExactAdaptiveAvgPool2d((80, 80), (64, 64))
        self.vit = affine_layer_norms(VisionTransformer(64, 32, 16, 2, 2, 8).eval())

    def forward(self, image):
        return self.vit(self.pool(image) * 0.5 + 0.5)


@unittest.skipUnless(HAS_NODE, 'node (onnxruntime-node) is needed to run the exported graphs')
class ExportMechanicsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix='hairfast-export-test-'))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def roundtrip(self, module, graph, inputs, float_dtype='float32'):
        path = self.tmp / 'g.onnx'
        export_onnx(module, inputs, [s['name'] for s in graph['inputs']], [s['name'] for s in graph['outputs']], path)
        stamp_output_shapes(path, graph)
        self.assertEqual(contract_mismatches(path, graph, float_dtype), [])
        with torch.no_grad():
            want = module(*inputs)
        want = want if isinstance(want, tuple) else (want,)
        got, _ = run_ort(path, {s['name']: t.numpy() for s, t in zip(graph['inputs'], inputs)})
        for s, w in zip(graph['outputs'], want):
            g = got[s['name']]
            self.assertEqual(list(g.shape), list(s['shape']), s['name'])
            self.assertFalse(np.isnan(g.astype(np.float64)).any(), s['name'])
            self.assertLess(np.abs(g.astype(np.float64) - w.numpy().astype(np.float64)).max(), TOL, s['name'])
        return path

    def test_tiny_generator(self):
        graph = {'inputs': [spec('s', 'float32', [1, 10, 8]), spec('f', 'float32', [1, 8, 8, 8])],
                 'outputs': [spec('image_256', 'float32', [1, 3, 16, 16])]}
        self.roundtrip(TinyGenerator(), graph, (torch.randn(1, 10, 8), torch.randn(1, 8, 8, 8)))

    def test_tiny_sean_codes_absent_classes_no_nan(self):
        graph = {'inputs': [spec('image_256', 'float32', [1, 3, 32, 32]), spec('mask', 'int64', [1, 1, 32, 32])],
                 'outputs': [spec('codes', 'float32', [1, 19, 16]), spec('styles', 'float32', [1, 16, 16, 16])]}
        mask = torch.randint(0, 6, (1, 1, 32, 32))  # classes 6..18 absent -> mean codes
        path = self.roundtrip(TinySeanCodes(), graph, (torch.randn(1, 3, 32, 32), mask))
        got, _ = run_ort(path, {'image_256': np.random.randn(1, 3, 32, 32).astype(np.float32),
                                'mask': mask.numpy()})
        self.assertTrue(np.allclose(got['codes'][0, 10], TinySeanCodes().mean_codes[10].numpy(), atol=1e-6))

    def test_tiny_clip_tower(self):
        graph = {'inputs': [spec('image', 'float32', [1, 3, 80, 80])], 'outputs': [spec('embedding', 'float32', [1, 8])]}
        self.roundtrip(TinyClip(), graph, (torch.rand(1, 3, 80, 80) * 2 - 1,))

    def test_align_f_matches_contract(self):
        graph = load_contract()['graphs']['align_f']
        self.roundtrip(AlignF(), graph, example_inputs(graph))

    def test_blend_masks_matches_contract(self):
        graph = load_contract()['graphs']['blend_masks']
        self.roundtrip(BlendMasks(), graph, example_inputs(graph))

    def test_contract_mismatch_is_reported(self):
        graph = load_contract()['graphs']['align_f']
        path = self.tmp / 'g.onnx'
        renamed = dict(graph, outputs=[spec('f_aligned', 'float32', [1, 512, 32, 32])])
        export_onnx(AlignF(), example_inputs(graph), [s['name'] for s in graph['inputs']], ['f_aligned'], path)
        self.assertEqual(contract_mismatches(path, renamed), [])
        problems = contract_mismatches(path, graph)
        self.assertEqual(len(problems), 1)
        self.assertIn('f_align', problems[0])


class CostsTest(unittest.TestCase):
    def test_gmac_counts_conv_and_matmul(self):
        import onnx
        from hairfast_export import costs
        tmp = Path(tempfile.mkdtemp(prefix='hairfast-costs-'))
        try:
            module = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.Flatten(), nn.Linear(8 * 16 * 16, 10))
            export_onnx(module, (torch.randn(1, 3, 16, 16),), ['x'], ['y'], tmp / 'c.onnx')
            model = onnx.load(str(tmp / 'c.onnx'))
            gmac, unknown = costs.gmac_counted(model)
            self.assertEqual(unknown, 0)
            self.assertAlmostEqual(gmac * 1e9, 8 * 16 * 16 * 3 * 9 + 8 * 16 * 16 * 10, delta=0.5)
            self.assertEqual(costs.params(model), sum(p.numel() for p in module.parameters()))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class ContractTest(unittest.TestCase):
    def test_every_contract_graph_has_a_builder(self):
        contract = load_contract()
        self.assertEqual(sorted(contract['graphs']), sorted(GRAPH_NAMES))

    def test_contract_specs_are_well_formed(self):
        dtypes = {'float32', 'float16', 'int64', 'int32', 'uint8', 'bool'}
        for name, g in load_contract()['graphs'].items():
            self.assertEqual(g['file'], f'hairfast/{name}.onnx')
            for s in g['inputs'] + g['outputs']:
                self.assertIn(s['dtype'], dtypes, (name, s))
                self.assertTrue(all(isinstance(d, int) and d > 0 for d in s['shape']), (name, s))
            names = [s['name'] for s in g['inputs'] + g['outputs']]
            self.assertEqual(len(names), len(set(names)), name)


if __name__ == '__main__':
    unittest.main()

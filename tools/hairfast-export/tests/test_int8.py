"""int8 quantization of exported graphs (hairfast_export/int8.py), run through onnxruntime-node against fp32."""
import shutil
import tempfile
import unittest
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn
import torch.nn.functional as F

import _path  # noqa: F401  (puts tools/hairfast-export on sys.path)
from hairfast_export.int8 import activation_params, calibrate, quantize_convs, weight_params
from hairfast_export.onnx_io import export_onnx, run_ort
from test_export_mechanics import TinyGenerator

HAS_NODE = shutil.which('node') is not None


class ConvStack(nn.Module):
    """Decoder-like: 3×3 convolutions with biases and leaky ReLUs, a residual sum, an upsample and a 1×1 to RGB."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.a = nn.Conv2d(16, 32, 3, padding=1)
        self.b = nn.Conv2d(32, 32, 3, padding=1)
        self.c = nn.Conv2d(32, 32, 3, padding=1, bias=False)
        self.rgb = nn.Conv2d(32, 3, 1)

    def forward(self, x):
        h = F.leaky_relu(self.a(x), 0.2)
        h = h + F.leaky_relu(self.b(h), 0.2)
        h = F.interpolate(self.c(h), scale_factor=2.0, mode='nearest')
        return torch.tanh(self.rgb(h))


@unittest.skipUnless(HAS_NODE, 'node (onnxruntime-node) runs the graphs')
class Int8QuantizationTest(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix='hairfast-int8-test-'))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def export(self, module, inputs, in_names, out_names) -> Path:
        path = self.tmp / 'fp32.onnx'
        export_onnx(module.eval(), inputs, in_names, out_names, path)
        return path

    def quantize(self, path: Path, feeds_list) -> tuple[Path, object]:
        model, report = quantize_convs(onnx.load(str(path)), calibrate(path, feeds_list, run_ort))
        onnx.checker.check_model(model)
        out = self.tmp / 'int8.onnx'
        onnx.save(model, str(out))
        return out, report

    def test_conv_stack_runs_in_int8_close_to_fp32_on_unseen_inputs(self):
        g = torch.Generator().manual_seed(1)
        calibration = [{'x': torch.randn(1, 16, 32, 32, generator=g).numpy()} for _ in range(2)]
        unseen = {'x': torch.randn(1, 16, 32, 32, generator=g).numpy()}
        path = self.export(ConvStack(), (torch.from_numpy(unseen['x']),), ['x'], ['image'])
        quantized, report = self.quantize(path, calibration)
        self.assertEqual(report.int8_convs, 4)
        model = onnx.load(str(quantized))
        self.assertEqual({i.data_type for i in model.graph.initializer if i.name.endswith('__wq')}, {onnx.TensorProto.INT8})
        self.assertFalse([i.name for i in model.graph.initializer if i.data_type == onnx.TensorProto.FLOAT and i.dims and
                          np.prod(i.dims) >= 16 * 9], 'no float32 conv weights are left')
        # a tensor read by two convs or written by one and read by the next has one Q/DQ pair
        q_of = [n.input[0] for n in model.graph.node if n.op_type == 'QuantizeLinear']
        self.assertEqual(len(q_of), len(set(q_of)))
        self.assertEqual([v.type.tensor_type.elem_type for v in list(model.graph.input) + list(model.graph.output)],
                         [onnx.TensorProto.FLOAT] * 2)
        want, _ = run_ort(path, unseen)
        got, _ = run_ort(quantized, unseen)
        err = np.abs(got['image'] - want['image'])
        self.assertGreater(err.max(), 0)  # it really ran quantized
        self.assertLess(err.max(), 0.1)
        psnr = 10 * np.log10(4.0 / np.mean(err ** 2))  # tanh output: a range of 2
        self.assertGreater(psnr, 30.0)

    def test_convolutions_named_with_a_kept_prefix_stay_float32(self):
        feeds = {'x': torch.randn(1, 16, 32, 32, generator=torch.Generator().manual_seed(3)).numpy()}
        path = self.export(ConvStack(), (torch.from_numpy(feeds['x']),), ['x'], ['image'])
        keep = ('/rgb',)
        model, report = quantize_convs(onnx.load(str(path)), calibrate(path, [feeds], run_ort, keep), keep)
        self.assertEqual(report.int8_convs, 3)
        self.assertEqual(report.kept, {'/rgb/Conv': 'kept by name'})
        rgb = next(n for n in model.graph.node if n.name == '/rgb/Conv')
        self.assertFalse(any(name.endswith('__dq') for name in rgb.input[1:]), 'its weights stay float32')

    def test_modulated_convolutions_stay_float32(self):
        g = torch.Generator().manual_seed(2)
        feeds = {'s': torch.randn(1, 18, 8, generator=g).numpy(), 'f': torch.randn(1, 8, 8, 8, generator=g).numpy()}
        path = self.export(TinyGenerator(), (torch.from_numpy(feeds['s']), torch.from_numpy(feeds['f'])), ['s', 'f'], ['image'])
        _, report = self.quantize(path, [feeds])
        self.assertTrue(all(why == 'computed weights' for why in report.kept.values()))
        self.assertGreater(len(report.kept), 0)

    def test_parameters(self):
        self.assertEqual(activation_params(-1.0, 3.0), (4.0 / 255, 64))
        self.assertEqual(activation_params(0.5, 2.0)[1], 0)  # the range is widened to hold 0
        self.assertEqual(activation_params(0.0, 0.0), (1.0, 0))
        w = np.array([[[[0.5, -1.0]]], [[[0.0, 0.0]]]], np.float32)
        q, scale = weight_params(w)
        np.testing.assert_array_equal(q[0].ravel(), [64, -127])
        np.testing.assert_array_equal(q[1].ravel(), [0, 0])
        np.testing.assert_allclose(scale, [1.0 / 127, 1.0])


if __name__ == '__main__':
    unittest.main()

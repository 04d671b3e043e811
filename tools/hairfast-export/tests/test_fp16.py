"""fp16 conversion of exported graphs (hairfast_export/fp16.py), run through onnxruntime-node against the fp32 graph."""
import shutil
import tempfile
import unittest
from pathlib import Path

import numpy as np
import onnx
import onnx.numpy_helper
import torch
from onnx import TensorProto
from torch import nn
import torch.nn.functional as F

import _path  # noqa: F401  (puts tools/hairfast-export on sys.path)
from hairfast_export.fp16 import DEFAULT_LIMIT, convert_to_fp16, probe, emulate_half
from hairfast_export.onnx_io import export_onnx, run_ort
from test_export_mechanics import TinyGenerator

HAS_NODE = shutil.which('node') is not None


class LargeSums(nn.Module):
    """Sums over many pixels that leave the fp16 range (as SEAN's class sums can), then a mean and an upscale."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, image):
        x = self.conv(image) + 8.0
        total = x.sum(dim=(2, 3), keepdim=True)  # 128 * 128 pixels of ~8 per channel: beyond 65504
        mean = total / float(x.shape[2] * x.shape[3])
        return F.interpolate(x - mean, scale_factor=0.5, mode='bilinear'), mean


def float_initializer_types(model: onnx.ModelProto) -> set[int]:
    return {i.data_type for i in model.graph.initializer if i.data_type in (TensorProto.FLOAT, TensorProto.FLOAT16)}


def weight_bytes(model: onnx.ModelProto) -> int:
    return sum(onnx.numpy_helper.to_array(i).nbytes for i in model.graph.initializer
               if i.data_type in (TensorProto.FLOAT, TensorProto.FLOAT16))


def io_types(model: onnx.ModelProto) -> list[int]:
    return [v.type.tensor_type.elem_type for v in list(model.graph.input) + list(model.graph.output)]


@unittest.skipUnless(HAS_NODE, 'node (onnxruntime-node) runs the graphs')
class Fp16ConversionTest(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix='hairfast-fp16-test-'))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def export(self, module, inputs, in_names, out_names) -> Path:
        path = self.tmp / 'fp32.onnx'
        export_onnx(module.eval(), inputs, in_names, out_names, path)
        return path

    def convert(self, path: Path, **kwargs) -> tuple[Path, object]:
        model, report = convert_to_fp16(onnx.load(str(path)), **kwargs)
        onnx.checker.check_model(model)
        out = self.tmp / 'fp16.onnx'
        onnx.save(model, str(out))
        return out, report

    def emulated(self, half: Path) -> Path:
        model = emulate_half(onnx.load(str(half)))
        onnx.checker.check_model(model)
        out = self.tmp / 'fp16_emulated.onnx'
        onnx.save(model, str(out))
        return out

    def test_generator_layers_match_fp32_within_fp16_precision(self):
        g = torch.Generator().manual_seed(1)
        feeds = {'s': torch.randn(1, 18, 8, generator=g).numpy(), 'f': torch.randn(1, 8, 8, 8, generator=g).numpy()}
        path = self.export(TinyGenerator(), (torch.from_numpy(feeds['s']), torch.from_numpy(feeds['f'])), ['s', 'f'], ['image'])
        half, report = self.convert(path, calibration=probe(path, feeds, run_ort).absmax)
        model = onnx.load(str(half))
        self.assertEqual(float_initializer_types(model), {TensorProto.FLOAT16})
        self.assertEqual(io_types(model), [TensorProto.FLOAT] * 3)
        self.assertEqual(report.fp32_nodes, 0)
        self.assertAlmostEqual(weight_bytes(model) / weight_bytes(onnx.load(str(path))), 0.5, delta=0.01)
        want, _ = run_ort(path, feeds)
        scale = max(np.abs(want['image']).max(), 1.0)
        for run in (half, self.emulated(half)):
            got, _ = run_ort(run, feeds)
            self.assertEqual(got['image'].dtype, np.float32)
            err = np.abs(got['image'] - want['image']).max()
            self.assertGreater(err, 0)  # it really ran with fp16 weights and activations
            self.assertLess(err, 1e-2 * scale)

    def test_calibration_keeps_out_of_range_nodes_in_fp32(self):
        image = torch.rand(1, 3, 128, 128, generator=torch.Generator().manual_seed(2))
        feeds = {'image': image.numpy()}
        path = self.export(LargeSums(), (image,), ['image'], ['centered', 'mean'])
        want, _ = run_ort(path, feeds)
        naive, _ = self.convert(path)
        got_naive, _ = run_ort(self.emulated(naive), feeds)
        self.assertFalse(np.isfinite(got_naive['mean']).all(), 'without calibration the sum overflows fp16')
        calibration = probe(path, feeds, run_ort).absmax
        self.assertGreater(max(calibration.values()), DEFAULT_LIMIT)
        half, report = self.convert(path, calibration=calibration)
        self.assertGreater(report.fp32_nodes, 0)
        self.assertTrue(any('reached' in why for why in report.kept.values()))
        for run in (half, self.emulated(half)):
            got, _ = run_ort(run, feeds)
            for name in ('centered', 'mean'):
                self.assertTrue(np.isfinite(got[name]).all())
                np.testing.assert_allclose(got[name], want[name], atol=1e-2 * max(np.abs(want[name]).max(), 1.0))

    def test_resize_scales_stay_float32(self):
        image = torch.rand(1, 3, 128, 128, generator=torch.Generator().manual_seed(3))
        path = self.export(LargeSums(), (image,), ['image'], ['centered', 'mean'])
        half, _ = self.convert(path, calibration=probe(path, {'image': image.numpy()}, run_ort).absmax)
        model = onnx.load(str(half))
        resizes = [n for n in model.graph.node if n.op_type == 'Resize']
        self.assertTrue(resizes)
        consts = {i.name: i.data_type for i in model.graph.initializer}
        consts.update({n.output[0]: n.attribute[0].t.data_type for n in model.graph.node if n.op_type == 'Constant'})
        for node in resizes:
            for name in node.input[1:3]:
                if name:
                    self.assertEqual(consts.get(name, TensorProto.FLOAT), TensorProto.FLOAT, name)

    def test_keep_ops_and_mixed_weights(self):
        """A weight read by an fp32 node and an fp16 node is stored in both precisions; outputs stay float32."""
        class Shared(nn.Module):
            def __init__(self):
                super().__init__()
                self.w = nn.Parameter(torch.randn(8, 8))

            def forward(self, x):
                return torch.matmul(x, self.w) + torch.sigmoid(self.w).sum()

        x = torch.randn(2, 8)
        path = self.export(Shared(), (x,), ['x'], ['y'])
        half, report = self.convert(path, keep_ops={'MatMul'})
        self.assertEqual(report.fp32_nodes, 1)
        model = onnx.load(str(half))
        self.assertEqual(float_initializer_types(model), {TensorProto.FLOAT, TensorProto.FLOAT16})
        want, _ = run_ort(path, {'x': x.numpy()})
        got, _ = run_ort(half, {'x': x.numpy()})
        np.testing.assert_allclose(got['y'], want['y'], atol=2e-2)


if __name__ == '__main__':
    unittest.main()


PEAK_RSS_OF_RUN = """
import resource, sys, numpy as np
sys.path.insert(0, sys.argv[1])
from hairfast_export.fp16 import probe
from hairfast_export.onnx_io import run_ort
from pathlib import Path
feeds = {'x': np.ones((1, 16, 512, 512), np.float32)}
probe(Path(sys.argv[2]), feeds, run_ort) if sys.argv[3] == 'probe' else run_ort(Path(sys.argv[2]), feeds)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
"""


def conv_chain(path: Path, layers: int) -> int:
    """A chain of 3x3 Conv -> Relu on a 16 MB tensor (16 x 512 x 512 fp32); returns the bytes of all its tensors."""
    rng = np.random.default_rng(0)
    nodes, weights, prev = [], [], 'x'
    for i in range(layers):
        weights.append(onnx.numpy_helper.from_array((rng.standard_normal((16, 16, 3, 3)) * 0.05).astype(np.float32),
                                                    f'w{i}'))
        nodes += [onnx.helper.make_node('Conv', [prev, f'w{i}'], [f'c{i}'], pads=[1, 1, 1, 1]),
                  onnx.helper.make_node('Relu', [f'c{i}'], [f'r{i}'])]
        prev = f'r{i}'
    graph = onnx.helper.make_graph(
        nodes, 'chain', [onnx.helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 16, 512, 512])],
        [onnx.helper.make_tensor_value_info(prev, TensorProto.FLOAT, None)], weights)
    onnx.save(onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid('', 17)]), str(path))
    return 2 * layers * 16 * 512 * 512 * 4


@unittest.skipUnless(HAS_NODE, 'node (onnxruntime-node) runs the graphs')
class ProbeMemoryTest(unittest.TestCase):
    """The probe must not keep every tensor alive until the end of its run: on the swap composite that took more
    than this machine's 24 GB. Each run is its own process, so its peak RSS is that of its own onnxruntime child."""

    def peak_rss(self, path: Path, what: str) -> int:
        import subprocess
        import sys
        proc = subprocess.run([sys.executable, '-c', PEAK_RSS_OF_RUN, str(_path.ROOT),
                               str(path), what], capture_output=True, text=True, check=True)
        return int(proc.stdout.strip().splitlines()[-1])

    def test_probing_holds_about_what_the_plain_graph_holds(self):
        with tempfile.TemporaryDirectory(prefix='hairfast-probe-memory-') as tmp:
            path = Path(tmp) / 'chain.onnx'
            all_tensors = conv_chain(path, layers=24)  # 768 MB if every tensor stayed alive
            plain, probing = self.peak_rss(path, 'plain'), self.peak_rss(path, 'probe')
        self.assertLess(probing - plain, all_tensors / 4, f'peak RSS {plain} B plain, {probing} B while probing')


@unittest.skipUnless(HAS_NODE, 'node (onnxruntime-node) runs the graphs')
class Fp16VariantTest(unittest.TestCase):
    """to_fp16.write_fp16_variant on the contract's align_f graph (no official code needed)."""

    def test_variant_file_and_manifest_entry(self):
        import json
        from hairfast_export.graphs import AlignF, example_inputs
        from hairfast_export.onnx_io import contract_mismatches, load_contract, sha256
        from to_fp16 import write_fp16_variant

        tmp = Path(tempfile.mkdtemp(prefix='hairfast-fp16-variant-'))
        self.addCleanup(shutil.rmtree, tmp, True)
        spec = load_contract()['graphs']['align_f']
        path = tmp / 'align_f.onnx'
        export_onnx(AlignF().eval(), example_inputs(spec), [s['name'] for s in spec['inputs']],
                    [s['name'] for s in spec['outputs']], path)
        manifest = {'version': 1, 'models': {'align_f': {
            'file': 'hairfast/align_f.onnx', 'sha256': sha256(path), 'bytes': path.stat().st_size, 'kind': 'random',
            'source': {'package': 'test', 'version': '0', 'license': 'MIT'}, 'precision': 'fp32',
            'inputs': spec['inputs'], 'outputs': spec['outputs'], 'notes': 'test'}}}
        row = write_fp16_variant('align_f', spec, path, manifest)
        half = tmp / 'align_f_fp16.onnx'
        entry = manifest['models']['align_f_fp16']
        self.assertEqual(entry['file'], 'hairfast/align_f_fp16.onnx')
        self.assertEqual(entry['sha256'], sha256(half))
        self.assertEqual(entry['precision'], 'fp16')
        self.assertEqual(entry['inputs'], spec['inputs'])  # float32 in and out, as the contract says
        self.assertEqual(contract_mismatches(half, spec), [])
        self.assertLess(entry['activationBytes'], manifest['models']['align_f']['activationBytes'])
        self.assertGreater(entry['activationBytes'], 0)
        err = row['vs_fp32']['f_align']
        self.assertTrue(err['finite'])
        self.assertGreater(err['max_abs'], 0)
        self.assertLess(err['max_abs'], 1e-2 * max(err['ref_max_abs_value'], 1.0))
        json.dumps(manifest)  # serialisable as written by export.py / to_fp16.py

    def test_a_graph_that_misses_the_target_is_converted_again_with_a_tighter_limit(self):
        class Cancel(nn.Module):
            def forward(self, x):
                big = x * 1000.0  # ~500: below the default limit, but fp16 steps there are 0.25-0.5
                return (big + 0.3) - big

        from to_fp16 import write_fp16_variant
        tmp = Path(tempfile.mkdtemp(prefix='hairfast-fp16-retry-'))
        self.addCleanup(shutil.rmtree, tmp, True)
        spec = {'inputs': [{'name': 'x', 'dtype': 'float32', 'shape': [1, 64]}],
                'outputs': [{'name': 'y', 'dtype': 'float32', 'shape': [1, 64]}]}
        path = tmp / 'cancel.onnx'
        export_onnx(Cancel().eval(), (torch.randn(1, 64),), ['x'], ['y'], path)
        manifest = {'version': 1, 'models': {'cancel': {'file': 'hairfast/cancel.onnx', 'precision': 'fp32'}}}
        row = write_fp16_variant('cancel', spec, path, manifest)
        self.assertFalse(row['tried'][0]['meets_target'])
        self.assertTrue(row['meets_target'])
        self.assertLess(row['limit'], DEFAULT_LIMIT)
        self.assertGreater(row['fp32_nodes'], 0)
        self.assertLessEqual(row['vs_fp32']['y']['max_abs'], 1e-2)
        self.assertIn(f"limit {row['limit']:g}", manifest['models']['cancel_fp16']['notes'])


    def test_a_graph_with_external_data_gets_a_variant_with_its_own_data_file(self):
        """swap (4.3 GB fp32, 2.2 GB fp16) is over protobuf's 2 GB: read with its .data file, written with its own.
        The size rule is lowered so that a small graph takes the same path."""
        import json
        from unittest import mock
        from hairfast_export import onnx_io
        from hairfast_export.onnx_io import save_onnx, sha256
        from to_fp16 import write_fp16_variant

        tmp = Path(tempfile.mkdtemp(prefix='hairfast-fp16-external-'))
        self.addCleanup(shutil.rmtree, tmp, True)
        torch.manual_seed(0)
        net = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 3, 3, padding=1)).eval()
        spec = {'inputs': [{'name': 'image', 'dtype': 'float32', 'shape': [1, 3, 32, 32]}],
                'outputs': [{'name': 'out', 'dtype': 'float32', 'shape': [1, 3, 32, 32]}]}
        path = tmp / 'net.onnx'
        export_onnx(net, (torch.randn(1, 3, 32, 32),), ['image'], ['out'], path)
        data32 = save_onnx(onnx.load(str(path)), path, external=True)
        self.assertGreater(data32.stat().st_size, 32 * 3 * 9 * 4)
        manifest = {'version': 1, 'models': {'net': {
            'file': 'hairfast/net.onnx', 'precision': 'fp32', 'notes': 'test',
            'externalData': {'file': 'hairfast/net.onnx.data', 'sha256': sha256(data32), 'bytes': data32.stat().st_size}}}}
        with mock.patch.object(onnx_io, 'EXTERNAL_DATA_BYTES', 0):
            row = write_fp16_variant('net', spec, path, manifest)
        entry = manifest['models']['net_fp16']
        data16 = tmp / 'net_fp16.onnx.data'
        self.assertEqual(entry['externalData'], {'file': 'hairfast/net_fp16.onnx.data', 'sha256': sha256(data16),
                                                 'bytes': data16.stat().st_size})
        self.assertLess(data16.stat().st_size, data32.stat().st_size)  # half the weight bytes
        self.assertEqual(row['bytes'], (tmp / 'net_fp16.onnx').stat().st_size + data16.stat().st_size)
        half = onnx.load(str(tmp / 'net_fp16.onnx'), load_external_data=False)
        self.assertTrue(any(i.data_location == TensorProto.EXTERNAL for i in half.graph.initializer))
        # onnxruntime ran the shipped file with its weights from net_fp16.onnx.data: close to fp32, not zeros
        shipped = row['shipped_file_vs_fp32']['out']
        self.assertTrue(row['meets_target'])
        self.assertLess(shipped['max_abs'], 1e-2)
        self.assertGreater(shipped['ref_max_abs_value'], 0.05)
        json.dumps(manifest)


class ActivationPeakTest(unittest.TestCase):
    def test_live_tensors_are_counted_and_weight_copies_are_not(self):
        from onnx import helper
        from hairfast_export.costs import activation_peak_bytes, weight_bytes
        w = onnx.numpy_helper.from_array(np.ones((1, 256), np.float32), 'w')
        nodes = [helper.make_node('Identity', ['w'], ['w_copy']),  # how torch passes shared parameters
                 helper.make_node('Relu', ['x'], ['a']),
                 helper.make_node('Add', ['a', 'w_copy'], ['b']),
                 helper.make_node('Mul', ['b', 'b'], ['y'])]
        graph = helper.make_graph(nodes, 'g', [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 256])],
                                  [helper.make_tensor_value_info('y', TensorProto.FLOAT, [1, 256])], [w])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])
        shapes = {name: [1, 256] for name in ('x', 'w_copy', 'a', 'b', 'y')}
        # x+a while Relu runs, then a+b, then b+y: at most two 1 KiB tensors at once
        self.assertEqual(activation_peak_bytes(model, shapes), 2 * 1024)
        self.assertEqual(weight_bytes(model), 1024)
        half, _ = convert_to_fp16(model)
        self.assertEqual(weight_bytes(half), 512)
        # fp16 inside, with a float32 input and output (and their casts) at the edges
        self.assertLess(activation_peak_bytes(half, shapes), 2 * 1024 + 1)

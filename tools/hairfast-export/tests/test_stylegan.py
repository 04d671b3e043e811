import math
import unittest

import torch
import torch.nn.functional as F

import _path  # noqa: F401  (puts tools/hairfast-export on sys.path)
from hairfast_export import ops
from hairfast_export.stylegan import Generator, UnfusedModulatedConv2d

TOL = 1e-5


def fused_reference(conv: UnfusedModulatedConv2d, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """ModulatedConv2d.forward's formula: per-sample weight scale*W*s, demodulated, grouped (transposed) conv."""
    b, cin, h, w = x.shape
    k, cout = conv.kernel_size, conv.out_channel
    s = conv.modulation(style).view(b, 1, cin, 1, 1)
    weight = conv.scale * conv.weight * s
    if conv.demodulate:
        demod = torch.rsqrt(weight.pow(2).sum([2, 3, 4]) + 1e-8)
        weight = weight * demod.view(b, cout, 1, 1, 1)
    weight = weight.view(b * cout, cin, k, k)
    if conv.upsample:
        weight = weight.view(b, cout, cin, k, k).transpose(1, 2).reshape(b * cin, cout, k, k)
        out = F.conv_transpose2d(x.view(1, b * cin, h, w), weight, padding=0, stride=2, groups=b)
        out = out.view(b, cout, out.shape[2], out.shape[3])
        return ops.upfirdn2d(out, conv.blur.kernel, pad=conv.blur.pad)
    out = F.conv2d(x.view(1, b * cin, h, w), weight, padding=conv.padding, groups=b)
    return out.view(b, cout, out.shape[2], out.shape[3])


class ModulatedConvTest(unittest.TestCase):
    def test_unfused_equals_fused(self):
        torch.manual_seed(0)
        for k, up, demod in [(3, False, True), (3, True, True), (1, False, False)]:
            conv = UnfusedModulatedConv2d(6, 5, k, 8, demodulate=demod, upsample=up)
            with torch.no_grad():
                conv.modulation.bias.normal_()
            x = torch.randn(2, 6, 8, 8)
            style = torch.randn(2, 8)
            with torch.no_grad():
                got = conv(x, style)
                ref = fused_reference(conv, x, style)
            self.assertEqual(got.shape, ref.shape)
            self.assertLess((got - ref).abs().max().item(), TOL, (k, up, demod))


def tiny_generator() -> Generator:
    torch.manual_seed(1)
    chans = {4: 8, 8: 8, 16: 8, 32: 6, 64: 4}
    g = Generator(size=64, style_dim=8, n_mlp=2, channels=chans).eval()
    with torch.no_grad():
        for name, p in g.named_parameters():
            if name.endswith('noise.weight') or name.endswith('activate.bias') or name.endswith('.bias'):
                p.normal_(0, 0.1)
    return g


class GeneratorTest(unittest.TestCase):
    def test_layer_ranges(self):
        g = tiny_generator()
        latent = torch.randn(1, g.n_latent, 8)
        with torch.no_grad():
            image, _ = g.synthesize(latent)
            f8, _ = g.synthesize(latent, 0, 1)
            f16, _ = g.synthesize(latent, 2, 2, layer_in=f8)
        self.assertEqual(tuple(image.shape), (1, 3, 64, 64))
        self.assertEqual(tuple(f8.shape), (1, 8, 8, 8))
        self.assertEqual(tuple(f16.shape), (1, 8, 16, 16))
        # the F passes chain: layers 0..2 in one pass == 0..1 then 2 from F
        with torch.no_grad():
            f16_direct, _ = g.synthesize(latent, 0, 2)
        self.assertLess((f16 - f16_direct).abs().max().item(), TOL)

    def test_traced_at_one_batch_runs_at_another(self):
        """The swap composite is traced at batch 2 and runs at any batch: nothing in a pass from layer 0 may fix the
        batch at the traced size (the constant block once did, through int(latent.shape[0]))."""
        import shutil
        import tempfile
        from pathlib import Path

        from torch import nn
        from hairfast_export.onnx_io import export_onnx, run_ort

        class FromLatent(nn.Module):
            def __init__(self, g):
                super().__init__()
                self.g = g

            def forward(self, latent):
                return self.g.synthesize(latent, 0, 2)[0]

        if not shutil.which('node'):
            self.skipTest('node (onnxruntime-node) runs the exported graph')
        module = FromLatent(tiny_generator()).eval()
        tmp = Path(tempfile.mkdtemp(prefix='hairfast-stylegan-batch-'))
        self.addCleanup(shutil.rmtree, tmp, True)
        path = tmp / 'g.onnx'
        latent = torch.randn(3, module.g.n_latent, 8)
        export_onnx(module, (latent[:2],), ['latent'], ['f'], path, dynamic_axes={'latent': {0: 'b'}, 'f': {0: 'b'}})
        with torch.no_grad():
            want = module(latent)
        for rows in (latent[:1], latent):
            got, _ = run_ort(path, {'latent': rows.numpy()})
            self.assertEqual(got['f'].shape[0], rows.shape[0])
            self.assertLess(float(abs(got['f'] - want[:rows.shape[0]].numpy()).max()), 1e-4)

    def test_state_dict_names_follow_official_layout(self):
        keys = set(tiny_generator().state_dict())
        for k in ['style.1.weight', 'input.input', 'conv1.conv.weight', 'conv1.conv.modulation.bias', 'conv1.noise.weight',
                  'conv1.activate.bias', 'to_rgb1.bias', 'convs.0.conv.blur.kernel', 'to_rgbs.0.upsample.kernel',
                  'noises.noise_0']:
            self.assertIn(k, keys)

    def test_fixed_noise_is_deterministic(self):
        g = tiny_generator()
        latent = torch.randn(1, g.n_latent, 8)
        with torch.no_grad():
            a, _ = g.synthesize(latent)
            b, _ = g.synthesize(latent)
        self.assertTrue(torch.equal(a, b))


if __name__ == '__main__':
    unittest.main()

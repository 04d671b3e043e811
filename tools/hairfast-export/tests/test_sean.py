import unittest

import torch
from torch import nn
import torch.nn.functional as F

import _path  # noqa: F401  (puts tools/hairfast-export on sys.path)
from hairfast_export import ops
from hairfast_export.sean import DenseACE, class_means, select_codes

TOL = 1e-5
K = 19


def zencoder_loop_reference(codes: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
    """Zencoder.forward's per-(sample, class) masked_select mean; absent classes stay zero."""
    b, f = codes.shape[0], codes.shape[1]
    out = torch.zeros(b, seg.shape[1], f)
    for i in range(b):
        for j in range(seg.shape[1]):
            area = torch.sum(seg.bool()[i, j])
            if area > 0:
                out[i][j] = codes[i].masked_select(seg.bool()[i, j]).reshape(f, area).mean(1)
    return out


class TinySpade(nn.Module):
    def __init__(self, nc: int):
        super().__init__()
        self.shared = nn.Sequential(nn.Conv2d(K, 4, 3, padding=1), nn.ReLU())
        self.g = nn.Conv2d(4, nc, 3, padding=1)
        self.b = nn.Conv2d(4, nc, 3, padding=1)

    def forward(self, seg):
        a = self.shared(seg)
        return self.g(a), self.b(a)


class TinyACE(nn.Module):
    """The attributes DenseACE.from_official reads, with a 512-wide style as in SEAN."""

    def __init__(self, nc: int):
        super().__init__()
        self.use_rgb = True
        self.param_free_norm = nn.BatchNorm2d(nc, affine=False)
        self.Spade = TinySpade(nc)
        for j in range(K):
            setattr(self, f'fc_mu{j}', nn.Linear(512, 512))
        self.conv_gamma = nn.Conv2d(512, nc, 3, padding=1)
        self.conv_beta = nn.Conv2d(512, nc, 3, padding=1)
        self.blending_gamma = nn.Parameter(torch.randn(1))
        self.blending_beta = nn.Parameter(torch.randn(1))


def ace_ui_reference(ace: TinyACE, x: torch.Tensor, segmap: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    """ACE.forward in UI_mode for one sample: masked_scatter of relu(fc_mu_j(code_j)) per present class."""
    normalized = ace.param_free_norm(x)
    segmap = F.interpolate(segmap, size=x.size()[2:], mode='nearest')
    b, _, h, w = normalized.shape
    middle_avg = torch.zeros((b, 512, h, w))
    for j in range(segmap.shape[1]):
        area = torch.sum(segmap.bool()[0, j])
        if area > 0:
            mu = F.relu(getattr(ace, f'fc_mu{j}')(codes[j]))
            middle_avg[0].masked_scatter_(segmap.bool()[0, j], mu.reshape(512, 1).expand(512, area))
    gamma_spade, beta_spade = ace.Spade(segmap)
    ga, ba = torch.sigmoid(ace.blending_gamma), torch.sigmoid(ace.blending_beta)
    gamma = ga * ace.conv_gamma(middle_avg) + (1 - ga) * gamma_spade
    beta = ba * ace.conv_beta(middle_avg) + (1 - ba) * beta_spade
    return normalized * (1 + gamma) + beta


class SeanTest(unittest.TestCase):
    def test_class_means_match_masked_select_loop(self):
        torch.manual_seed(0)
        labels = torch.randint(0, 12, (2, 1, 16, 16))  # classes 12..18 absent
        seg = ops.one_hot(labels, K)
        codes = torch.randn(2, 32, 16, 16)
        got = class_means(codes, seg)
        ref = zencoder_loop_reference(codes, seg)
        self.assertFalse(torch.isnan(got).any())
        self.assertLess((got - ref).abs().max().item(), TOL)
        self.assertEqual(got[:, 12:].abs().sum().item(), 0.0)

    def test_select_codes_falls_back_to_mean_for_absent(self):
        codes = torch.randn(2, K, 8)
        codes[0, 3] = 0
        codes[1, 7] = 0
        mean = torch.randn(K, 8)
        got = select_codes(codes, mean)
        self.assertTrue(torch.equal(got[0, 3], mean[3]))
        self.assertTrue(torch.equal(got[1, 7], mean[7]))
        self.assertTrue(torch.equal(got[0, 4], codes[0, 4]))

    def test_dense_ace_matches_ui_mode_loop(self):
        torch.manual_seed(0)
        ace = TinyACE(6).eval()
        with torch.no_grad():
            ace.param_free_norm.running_mean.normal_()
            ace.param_free_norm.running_var.uniform_(0.5, 2)
        dense = DenseACE.from_official(ace).eval()
        labels = torch.randint(0, 10, (1, 1, 32, 32))
        seg = ops.one_hot(labels, K)
        x = torch.randn(2, 6, 16, 16)
        codes = torch.randn(2, K, 512)
        with torch.no_grad():
            got = dense(x, seg, None, codes)
            for b in range(2):
                ref = ace_ui_reference(ace, x[b:b + 1], seg, codes[b])
                self.assertLess((got[b:b + 1] - ref).abs().max().item(), TOL)


if __name__ == '__main__':
    unittest.main()


class TinyBlock(nn.Module):
    """A SEAN resnet block as SeanDecode calls it, block(x, seg, style_codes, obj_dic), through its ACE."""

    def __init__(self, nc: int):
        super().__init__()
        self.ace_0 = TinyACE(nc)
        self.conv = nn.Conv2d(nc, nc, 3, padding=1)

    def forward(self, x, seg, style_codes, obj_dic):
        return self.conv(F.leaky_relu(self.ace_0(x, seg, style_codes, obj_dic), 2e-1))


class TinySeanGenerator(nn.Module):
    """The attributes SeanDecode reads from the official SEAN generator (fc, sh/sw, the seven blocks, up, conv_img)."""
    def __init__(self, nc: int = 8, start: int = 4):
        super().__init__()
        self.sh = self.sw = start  # the output side is start * 32
        self.fc = nn.Conv2d(K, nc, 3, padding=1)
        for name in ['head_0', 'G_middle_0', 'G_middle_1', 'up_0', 'up_1', 'up_2', 'up_3']:
            setattr(self, name, TinyBlock(nc))
        self.up = nn.Upsample(scale_factor=2)
        self.conv_img = nn.Conv2d(nc, 3, 3, padding=1)


class SeanDecodeBatchTest(unittest.TestCase):
    """SeanDecode decodes several code sets against one target mask (the split graph) and, inside the swap composite,
    a symbolic batch of (codes, mask) rows: its export must keep the channel count that the param-free batch norms
    need (torch.onnx refuses batch_norm for an unknown channel size)."""

    def test_exports_with_a_symbolic_batch_and_matches_torch_at_another_batch(self):
        import shutil
        import tempfile
        from pathlib import Path

        import numpy as np
        from hairfast_export.graphs import SeanDecode
        from hairfast_export.onnx_io import export_onnx, run_ort

        torch.manual_seed(0)
        decode = SeanDecode(TinySeanGenerator().eval(), torch.randn(K, 512)).eval()
        codes = torch.randn(3, K, 512)
        masks = torch.randint(0, K, (3, 1, 128, 128))
        with torch.no_grad():
            one_mask = decode(codes[:2], masks[:1])  # the split graph: two code sets, one mask
            self.assertEqual(list(one_mask.shape), [2, 3, 128, 128])
            self.assertLess((one_mask[1:] - decode(codes[1:2], masks[:1])).abs().max().item(), 1e-5)
            want = decode(codes, masks)
        tmp = Path(tempfile.mkdtemp(prefix='hairfast-sean-batch-'))
        self.addCleanup(shutil.rmtree, tmp, True)
        path = tmp / 'sean_decode.onnx'
        axes = {'codes': {0: 'batch'}, 'target_mask': {0: 'batch'}, 'images': {0: 'batch'}}
        export_onnx(decode, (codes[:2], masks[:2]), ['codes', 'target_mask'], ['images'], path, dynamic_axes=axes)
        if not shutil.which('node'):
            self.skipTest('node (onnxruntime-node) runs the exported graph')
        got, _ = run_ort(path, {'codes': codes.numpy(), 'target_mask': masks.numpy()})
        self.assertLess(float(np.abs(got['images'] - want.numpy()).max()), 1e-4)

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

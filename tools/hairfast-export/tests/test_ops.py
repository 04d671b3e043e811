import unittest

import numpy as np
import torch
import torch.nn.functional as F

import _path  # noqa: F401  (puts tools/hairfast-export on sys.path)
from hairfast_export import ops

TOL = 1e-5


def upfirdn_reference(x: np.ndarray, k: np.ndarray, up: int, down: int, pad: tuple[int, int]) -> np.ndarray:
    """Definition: zero-insert upsample, pad (negative crops), true convolution with k, keep every `down`-th."""
    h, w = x.shape
    u = np.zeros((h * up, w * up), x.dtype)
    u[::up, ::up] = x
    p0, p1 = pad
    u = np.pad(u, ((max(p0, 0), max(p1, 0)), (max(p0, 0), max(p1, 0))))
    u = u[max(-p0, 0):u.shape[0] - max(-p1, 0), max(-p0, 0):u.shape[1] - max(-p1, 0)]
    kh, kw = k.shape
    oh, ow = u.shape[0] - kh + 1, u.shape[1] - kw + 1
    out = np.zeros((oh, ow), np.float64)
    for y in range(oh):
        for xx in range(ow):
            out[y, xx] = sum(u[y + i, xx + j] * k[kh - 1 - i, kw - 1 - j] for i in range(kh) for j in range(kw))
    return out[::down, ::down]


class UpFirDnTest(unittest.TestCase):
    def test_matches_definition(self):
        g = torch.Generator().manual_seed(0)
        k = torch.rand(4, 3, generator=g)
        k = torch.rand(4, 4, generator=g)
        for up, down, pad in [(1, 1, (2, 1)), (2, 1, (2, 1)), (1, 2, (1, 1)), (2, 1, (-1, 1)), (1, 1, (1, 2))]:
            x = torch.randn(2, 3, 6, 5, generator=g)
            got = ops.upfirdn2d(x, k, up=up, down=down, pad=pad).numpy()
            for n in range(2):
                for c in range(3):
                    ref = upfirdn_reference(x[n, c].numpy().astype(np.float64), k.numpy().astype(np.float64), up, down, pad)
                    self.assertEqual(got[n, c].shape, ref.shape, (up, down, pad))
                    self.assertLess(np.abs(got[n, c] - ref).max(), TOL, (up, down, pad))

    def test_fused_leaky_relu(self):
        x = torch.randn(2, 4, 3, 3)
        b = torch.randn(4)
        ref = torch.where(x + b[None, :, None, None] > 0, x + b[None, :, None, None], 0.2 * (x + b[None, :, None, None])) * 2 ** 0.5
        self.assertLess((ops.fused_leaky_relu(x, b) - ref).abs().max().item(), TOL)


class PoolTest(unittest.TestCase):
    def test_adaptive_pool_matches_torch(self):
        for hw, out in [((64, 64), (3, 3)), ((256, 256), (224, 224)), ((7, 9), (3, 4)), ((16, 16), (3, 3))]:
            x = torch.randn(2, 5, *hw)
            got = ops.ExactAdaptiveAvgPool2d(hw, out)(x)
            ref = torch.nn.AdaptiveAvgPool2d(out)(x)
            self.assertLess((got - ref).abs().max().item(), TOL, (hw, out))


def bicubic_reference(x: np.ndarray, factor: int) -> np.ndarray:
    """utils/bicubic.py's definition: Keys a=-0.5 kernel of 4*factor taps, reflect pad, stride factor, rows then cols."""
    taps = ops.bicubic_kernel_1d(factor).double().numpy()
    size = 4 * factor
    pad = size - factor
    p0, p1 = pad // 2, pad - pad // 2

    def along(a: np.ndarray, axis: int) -> np.ndarray:
        a = np.pad(a, [(p0, p1) if ax == axis else (0, 0) for ax in range(a.ndim)], mode='reflect')
        n = (a.shape[axis] - size) // factor + 1
        sl = [np.take(a, range(i * factor, i * factor + size), axis=axis) for i in range(n)]
        return np.stack([np.tensordot(s, taps, axes=([axis], [0])) for s in sl], axis=axis)

    return along(along(x, 0), 1)


class BicubicTest(unittest.TestCase):
    def test_kernel_taps(self):
        # factor 2: 8 taps of Keys(a=-0.5) at (i - 4 + 0.5) / 2, normalized
        def keys(t, a=-0.5):
            t = abs(t)
            return (a + 2) * t ** 3 - (a + 3) * t ** 2 + 1 if t <= 1 else (a * t ** 3 - 5 * a * t ** 2 + 8 * a * t - 4 * a if t < 2 else 0.0)
        raw = np.array([keys((i - 4 + 0.5) / 2) for i in range(8)])
        self.assertLess(np.abs(ops.bicubic_kernel_1d(2).numpy() - raw / raw.sum()).max(), 1e-7)

    def test_downsample_matches_definition(self):
        x = torch.rand(1, 3, 32, 32)
        for factor in (2, 4):
            got = ops.BicubicDownsample(factor)(x).numpy()
            for c in range(3):
                ref = bicubic_reference(x[0, c].double().numpy(), factor)
                self.assertLess(np.abs(got[0, c] - ref).max(), TOL)


class MaskOpsTest(unittest.TestCase):
    def test_one_hot_matches_scatter(self):
        labels = torch.randint(0, 19, (2, 1, 8, 8))
        ref = torch.zeros(2, 19, 8, 8).scatter_(1, labels, 1.0)
        self.assertTrue(torch.equal(ops.one_hot(labels, 19), ref))

    def test_one_hot_out_of_range_is_zero(self):
        labels = torch.full((1, 1, 2, 2), 255, dtype=torch.long)
        self.assertEqual(ops.one_hot(labels, 19).sum().item(), 0)

    def test_remap_matches_label_loop(self):
        parsing = torch.randint(0, 19, (1, 1, 16, 16))
        table = torch.randperm(19)
        ref = torch.zeros_like(parsing)
        for src in range(19):  # the repo loops over labels and assigns
            ref[parsing == src] = table[src]
        self.assertTrue(torch.equal(ops.remap_labels(parsing, table), ref))

    def test_nearest_resize_matches_interpolate(self):
        x = torch.randint(0, 19, (1, 1, 512, 512))
        ref = F.interpolate(x.float(), size=(256, 256), mode='nearest').long()
        self.assertTrue(torch.equal(ops.nearest_resize(x, (256, 256)), ref))
        y = torch.rand(1, 19, 256, 256)
        self.assertTrue(torch.equal(ops.nearest_resize(y, (16, 16)), F.interpolate(y, size=(16, 16), mode='nearest')))

    def test_dilate_erode_matches_repo_loop(self):
        m = (torch.rand(3, 1, 40, 40) > 0.6).float()
        weight = torch.tensor([[0.0, 1, 0], [1, 1, 1], [0, 1, 0]])[None, None]
        masks = m.repeat(2, 1, 1, 1)
        for _ in range(5):  # DilateErosion.mask
            masks = F.conv2d(masks, weight, padding='same')
            masks[:3] = (masks[:3] > 0).float()
            masks[3:] = (masks[3:] == 5).float()
        d, e = ops.dilate_erode(m, 5)
        self.assertTrue(torch.equal(d, masks[:3]))
        self.assertTrue(torch.equal(e, masks[3:]))


if __name__ == '__main__':
    unittest.main()

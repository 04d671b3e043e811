"""Small tensor primitives that replace untraceable or device-bound code in the official repo.

Every function here is plain torch with static shapes, so torch.onnx.export turns it into standard ONNX ops
(Pad, Conv, MatMul, Equal, Gather...). Each one is tested against the formula it replaces in tests/test_ops.py.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def upfirdn2d(x: torch.Tensor, kernel: torch.Tensor, up: int = 1, down: int = 1, pad: tuple[int, int] = (0, 0)) -> torch.Tensor:
    """Upsample by zero insertion, pad (negative = crop), FIR filter, downsample; same pad on both axes.

    Replaces models/stylegan2/op/upfirdn2d.py, whose import compiles a CUDA extension. The filter is applied as a
    depthwise convolution with the flipped kernel, as in the reference definition.
    """
    n, c, h, w = (int(v) for v in x.shape)  # static under tracing
    p0, p1 = pad
    if up > 1:
        # zero insertion as a depthwise 1x1 transposed conv: size (h-1)*up+1, the last up-1 zeros move into the pad
        ones = torch.ones(c, 1, 1, 1, device=x.device, dtype=x.dtype)
        x = F.conv_transpose2d(x, ones, stride=up, groups=c)
        p1 = p1 + up - 1
    kh, kw = kernel.shape
    # the FIR kernel is a fixed buffer: materialise it as a constant so the exported Conv has a static weight
    flipped = torch.from_numpy(torch.flip(kernel.detach(), [0, 1]).cpu().numpy().copy())
    weight = flipped.reshape(1, 1, kh, kw).repeat(c, 1, 1, 1).to(device=x.device, dtype=x.dtype)
    if p0 == p1 and p0 >= 0:  # symmetric: the conv's own padding (keeps shapes inferable in ONNX)
        return F.conv2d(x, weight, stride=down, padding=p0, groups=c)
    x = F.pad(x, [max(p0, 0), max(p1, 0), max(p0, 0), max(p1, 0)])
    if p0 < 0 or p1 < 0:
        hh, ww = x.shape[2], x.shape[3]
        x = x[:, :, max(-p0, 0):hh - max(-p1, 0), max(-p0, 0):ww - max(-p1, 0)]
    return F.conv2d(x, weight, stride=down, groups=c)


def fused_leaky_relu(x: torch.Tensor, bias: torch.Tensor, negative_slope: float = 0.2, scale: float = 2 ** 0.5) -> torch.Tensor:
    """leaky_relu(x + bias) * scale, bias broadcast on dim 1 (the repo's CPU path, without its CUDA kernel)."""
    shape = [1, bias.shape[0]] + [1] * (x.ndim - 2)
    return F.leaky_relu(x + bias.reshape(shape), negative_slope) * scale


def adaptive_pool_matrix(in_size: int, out_size: int) -> torch.Tensor:
    """[out, in] averaging matrix of adaptive average pooling: row i covers [floor(i*in/out), ceil((i+1)*in/out))."""
    m = torch.zeros(out_size, in_size, dtype=torch.float64)
    for i in range(out_size):
        start = (i * in_size) // out_size
        end = -((-(i + 1) * in_size) // out_size)
        m[i, start:end] = 1.0 / (end - start)
    return m.float()


class ExactAdaptiveAvgPool2d(torch.nn.Module):
    """nn.AdaptiveAvgPool2d for a fixed input size, as two matrix products (exports even when sizes don't divide)."""

    def __init__(self, in_hw: tuple[int, int], out_hw: tuple[int, int]):
        super().__init__()
        self.register_buffer('ph', adaptive_pool_matrix(in_hw[0], out_hw[0]), persistent=False)
        self.register_buffer('pw', adaptive_pool_matrix(in_hw[1], out_hw[1]), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.matmul(torch.matmul(self.ph.to(x.dtype), x), self.pw.to(x.dtype).t())


def bicubic_kernel_1d(factor: int, a: float = -0.5) -> torch.Tensor:
    """The 4*factor taps of utils/bicubic.py's BicubicDownSample, normalized to sum 1."""
    size = factor * 4

    def k(x: float) -> float:
        x = abs(x)
        if x <= 1.0:
            return (a + 2.0) * x ** 3 - (a + 3.0) * x ** 2 + 1
        if 1.0 < x < 2.0:
            return a * x ** 3 - 5.0 * a * x ** 2 + 8.0 * a * x - 4.0 * a
        return 0.0

    taps = torch.tensor([k((i - math.floor(size / 2) + 0.5) / factor) for i in range(size)], dtype=torch.float32)
    return taps / taps.sum()


class BicubicDownsample(torch.nn.Module):
    """utils/bicubic.py BicubicDownSample (reflect padding, separable stride-`factor` filter) with no .cuda types."""

    def __init__(self, factor: int, channels: int = 3):
        super().__init__()
        self.factor = factor
        taps = bicubic_kernel_1d(factor)
        size = factor * 4
        self.register_buffer('kv', taps.reshape(1, 1, size, 1).repeat(channels, 1, 1, 1), persistent=False)
        self.register_buffer('kh', taps.reshape(1, 1, 1, size).repeat(channels, 1, 1, 1), persistent=False)
        pad = size - factor
        self.pad0, self.pad1 = pad // 2, pad - pad // 2

    @staticmethod
    def _reflect_index(n: int, p0: int, p1: int) -> torch.Tensor:
        idx = list(range(p0, 0, -1)) + list(range(n)) + list(range(n - 2, n - 2 - p1, -1))
        return torch.tensor(idx, dtype=torch.long)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # reflect padding as a constant-index Gather: exact, and keeps static shapes in the exported graph
        c, h, w = int(x.shape[1]), int(x.shape[2]), int(x.shape[3])
        x = torch.index_select(x, 2, self._reflect_index(h, self.pad0, self.pad1).to(x.device))
        x = F.conv2d(x, self.kv.to(x.dtype), stride=(self.factor, 1), groups=c)
        x = torch.index_select(x, 3, self._reflect_index(w, self.pad0, self.pad1).to(x.device))
        return F.conv2d(x, self.kh.to(x.dtype), stride=(1, self.factor), groups=c)


def one_hot(labels: torch.Tensor, classes: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """[N,1,H,W] int labels -> [N,classes,H,W]; labels outside [0, classes) give an all-zero column (no scatter)."""
    ids = torch.arange(classes, device=labels.device, dtype=labels.dtype).reshape(1, classes, 1, 1)
    return (labels == ids).to(dtype)


def remap_labels(labels: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """labels -> table[labels] (the repo's per-label loop in swap_parsing_label_to_celeba_mask) as one Gather."""
    return torch.index_select(table.to(labels.device), 0, labels.reshape(-1)).reshape(labels.shape)


def nearest_resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """F.interpolate(mode='nearest') for integer downscale factors, done as strided slicing (int64-safe)."""
    h, w = int(x.shape[-2]), int(x.shape[-1])  # static under tracing
    size = (int(size[0]), int(size[1]))
    if h % size[0] == 0 and w % size[1] == 0:
        return x[..., ::h // size[0], ::w // size[1]]
    return F.interpolate(x.float(), size=size, mode='nearest').to(x.dtype)


CROSS_KERNEL = torch.tensor([[0.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 0.0]])


def dilate_erode(mask: torch.Tensor, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """utils/image_utils.py DilateErosion.mask: `steps` 3x3 cross convolutions, dilate = (>0), erode = (== 5)."""
    kernel = CROSS_KERNEL.to(mask.device, torch.float32).reshape(1, 1, 3, 3)
    d = mask.float()
    e = mask.float()
    for _ in range(steps):
        d = (F.conv2d(d, kernel, padding=1) > 0).float()
        e = (F.conv2d(e, kernel, padding=1) == 5.0).float()
    return d.to(mask.dtype) if mask.is_floating_point() else d, e.to(mask.dtype) if mask.is_floating_point() else e

"""StyleGAN2 generator (rosinality layout, as in models/stylegan2/model.py) in an export-friendly form.

Parameter and buffer names match the official `Generator`, so its state dict (`g_ema`) loads as is. Differences:
- the modulated convolution is unfused: (x * style) -> conv with the fixed weight -> * demod, instead of building a
  per-sample weight at run time and running a grouped conv (ONNX needs constant conv weights to stay fast);
- noise comes from the fixed `noises.noise_i` buffers (the official default draws fresh randn per call);
- upfirdn2d / fused_leaky_relu are the plain-torch versions from ops.py (no CUDA extension);
- `synthesize(latent, start_layer, end_layer, layer_in)` follows Generator.forward's layer-range semantics.
"""
from __future__ import annotations

import math

import torch
from torch import nn
import torch.nn.functional as F

from .ops import fused_leaky_relu, upfirdn2d


def make_kernel(k: list[int]) -> torch.Tensor:
    t = torch.tensor(k, dtype=torch.float32)
    if t.ndim == 1:
        t = t[None, :] * t[:, None]
    return t / t.sum()


class PixelNorm(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(torch.mean(x ** 2, dim=1, keepdim=True) + 1e-8)


class EqualLinear(nn.Module):
    def __init__(self, in_dim: int, out_dim: int, bias_init: float = 0.0, lr_mul: float = 1.0, activation: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim).div_(lr_mul))
        self.bias = nn.Parameter(torch.zeros(out_dim).fill_(bias_init))
        self.activation = activation
        self.scale = (1 / math.sqrt(in_dim)) * lr_mul
        self.lr_mul = lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.activation:
            return fused_leaky_relu(F.linear(x, self.weight * self.scale), self.bias * self.lr_mul)
        return F.linear(x, self.weight * self.scale, bias=self.bias * self.lr_mul)


class Blur(nn.Module):
    def __init__(self, kernel: list[int], pad: tuple[int, int], upsample_factor: int = 1):
        super().__init__()
        k = make_kernel(kernel)
        if upsample_factor > 1:
            k = k * (upsample_factor ** 2)
        self.register_buffer('kernel', k)
        self.pad = pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upfirdn2d(x, self.kernel, pad=self.pad)


class Upsample(nn.Module):
    def __init__(self, kernel: list[int], factor: int = 2):
        super().__init__()
        self.factor = factor
        k = make_kernel(kernel) * (factor ** 2)
        self.register_buffer('kernel', k)
        p = k.shape[0] - factor
        self.pad = ((p + 1) // 2 + factor - 1, p // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upfirdn2d(x, self.kernel, up=self.factor, pad=self.pad)


class UnfusedModulatedConv2d(nn.Module):
    """ModulatedConv2d with the modulation applied to activations, not to the weight.

    conv(x * s, scale*W) * d == conv(x, scale*W*s) * d  (convolution is linear in its input channels), and
    d[b,o] = rsqrt(sum_i s[b,i]^2 * sum_k (scale*W[o,i,k])^2 + 1e-8) is the same demodulation the fused form computes.
    """

    def __init__(self, in_channel: int, out_channel: int, kernel_size: int, style_dim: int, demodulate: bool = True,
                 upsample: bool = False, blur_kernel: list[int] = (1, 3, 3, 1)):
        super().__init__()
        self.kernel_size = kernel_size
        self.in_channel = in_channel
        self.out_channel = out_channel
        self.upsample = upsample
        self.demodulate = demodulate
        if upsample:
            factor = 2
            p = (len(blur_kernel) - factor) - (kernel_size - 1)
            self.blur = Blur(list(blur_kernel), pad=((p + 1) // 2 + factor - 1, p // 2 + 1), upsample_factor=factor)
        self.scale = 1 / math.sqrt(in_channel * kernel_size ** 2)
        self.padding = kernel_size // 2
        self.weight = nn.Parameter(torch.randn(1, out_channel, in_channel, kernel_size, kernel_size))
        self.modulation = EqualLinear(style_dim, in_channel, bias_init=1)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        s = self.modulation(style)  # [B, in]
        w = self.weight[0] * self.scale  # [out, in, k, k]
        x = x * s[:, :, None, None]
        if self.upsample:
            out = F.conv_transpose2d(x, w.transpose(0, 1), padding=0, stride=2)
        else:
            out = F.conv2d(x, w, padding=self.padding)
        if self.demodulate:
            wsq = w.pow(2).sum([2, 3])  # [out, in]
            demod = torch.rsqrt(torch.matmul(s * s, wsq.t()) + 1e-8)  # [B, out]
            out = out * demod[:, :, None, None]
        if self.upsample:
            out = self.blur(out)
        return out


class NoiseInjection(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, image: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return image + self.weight * noise


class FusedLeakyReLU(nn.Module):
    def __init__(self, channel: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channel))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return fused_leaky_relu(x, self.bias)


class StyledConv(nn.Module):
    def __init__(self, in_channel: int, out_channel: int, kernel_size: int, style_dim: int, upsample: bool = False,
                 blur_kernel: list[int] = (1, 3, 3, 1)):
        super().__init__()
        self.conv = UnfusedModulatedConv2d(in_channel, out_channel, kernel_size, style_dim, upsample=upsample,
                                           blur_kernel=blur_kernel)
        self.noise = NoiseInjection()
        self.activate = FusedLeakyReLU(out_channel)

    def forward(self, x: torch.Tensor, style: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return self.activate(self.noise(self.conv(x, style), noise))


class ToRGB(nn.Module):
    def __init__(self, in_channel: int, style_dim: int, upsample: bool = True, blur_kernel: list[int] = (1, 3, 3, 1)):
        super().__init__()
        if upsample:
            self.upsample = Upsample(list(blur_kernel))
        self.conv = UnfusedModulatedConv2d(in_channel, 3, 1, style_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))

    def forward(self, x: torch.Tensor, style: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        out = self.conv(x, style) + self.bias
        if skip is not None:
            out = out + self.upsample(skip)
        return out


class ConstantInput(nn.Module):
    def __init__(self, channel: int, size: int = 4):
        super().__init__()
        self.input = nn.Parameter(torch.randn(1, channel, size, size))


class Generator(nn.Module):
    def __init__(self, size: int = 1024, style_dim: int = 512, n_mlp: int = 8, channel_multiplier: int = 2,
                 blur_kernel: list[int] = (1, 3, 3, 1), lr_mlp: float = 0.01, channels: dict[int, int] | None = None):
        super().__init__()
        self.size = size
        self.style_dim = style_dim
        self.style = nn.Sequential(PixelNorm(), *[EqualLinear(style_dim, style_dim, lr_mul=lr_mlp, activation=True)
                                                  for _ in range(n_mlp)])
        self.channels = channels or {4: 512, 8: 512, 16: 512, 32: 512, 64: 256 * channel_multiplier,
                                     128: 128 * channel_multiplier, 256: 64 * channel_multiplier,
                                     512: 32 * channel_multiplier, 1024: 16 * channel_multiplier}
        self.input = ConstantInput(self.channels[4])
        self.conv1 = StyledConv(self.channels[4], self.channels[4], 3, style_dim, blur_kernel=blur_kernel)
        self.to_rgb1 = ToRGB(self.channels[4], style_dim, upsample=False)
        self.log_size = int(math.log(size, 2))
        self.num_layers = (self.log_size - 2) * 2 + 1
        self.convs = nn.ModuleList()
        self.to_rgbs = nn.ModuleList()
        self.noises = nn.Module()
        for layer_idx in range(self.num_layers):
            res = (layer_idx + 5) // 2
            self.noises.register_buffer(f'noise_{layer_idx}', torch.randn(1, 1, 2 ** res, 2 ** res))
        in_channel = self.channels[4]
        for i in range(3, self.log_size + 1):
            out_channel = self.channels[2 ** i]
            self.convs.append(StyledConv(in_channel, out_channel, 3, style_dim, upsample=True, blur_kernel=blur_kernel))
            self.convs.append(StyledConv(out_channel, out_channel, 3, style_dim, blur_kernel=blur_kernel))
            self.to_rgbs.append(ToRGB(out_channel, style_dim))
            in_channel = out_channel
        self.n_latent = self.log_size * 2 - 2

    def noise(self, i: int) -> torch.Tensor:
        return getattr(self.noises, f'noise_{i}')

    def synthesize(self, latent: torch.Tensor, start_layer: int = 0, end_layer: int = 8,
                   layer_in: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Generator.forward(input_is_latent=True, randomize_noise=False) over a layer range; returns (out, skip).

        Layer 0 is the 4x4 constant block; layer k >= 1 is the pair of convs at 2**(k+2). With end_layer < 8 the
        result is the feature `out` entering layer end_layer+1 (F); a pass that starts at k > 0 has no skip input.
        """
        skip = None
        out = layer_in
        if start_layer == 0:
            # the constant block broadcast to the latents' batch by a product with ones: a batch read with int()
            # would be fixed at the traced size (the swap composite is traced at 2 and run at any batch)
            out = self.input.input * torch.ones_like(latent[:, :1, :1]).unsqueeze(-1)
            out = self.conv1(out, latent[:, 0], self.noise(0))
            skip = self.to_rgb1(out, latent[:, 1])
        if end_layer == 0:
            return out, skip
        i = 1
        for k, to_rgb in enumerate(self.to_rgbs):
            current = k + 1
            if current > end_layer:
                return out, skip
            if current >= start_layer:
                out = self.convs[2 * k](out, latent[:, i], self.noise(2 * k + 1))
                out = self.convs[2 * k + 1](out, latent[:, i + 1], self.noise(2 * k + 2))
                skip = to_rgb(out, latent[:, i + 2], skip)
            i += 2
        return skip, skip

"""SEAN (models/sean_codes) pieces rewritten densely: no masked_select / masked_scatter loops, no data-dependent
branches, no NaN for absent classes.

- `class_means` replaces Zencoder's per-(sample, class) masked_select mean: an einsum over the one-hot map divided
  by max(area, 1), so an absent class gives the all-zero code the official loop leaves in place.
- `select_codes` is decode_sean's "all-zero code -> the repo's mean style code" fallback as a `where`.
- `DenseACE` is ACE.forward in UI mode: the per-class masked_scatter of relu(fc_mu_j(code_j)) becomes
  sum_j onehot_j * relu(fc_mu_j(code_j)) (the classes of a one-hot map are disjoint). The randn * noise_var term
  is dropped (it is zero for a zero noise_var, its initial value). The modulation x * (1 + gamma) + beta is computed
  as x + x * gamma + beta (`modulate`), the same value in fp32 that keeps small gammas in fp16.
"""
from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from .ops import nearest_resize


def class_means(codes: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
    """codes [N,C,H,W], seg one-hot [N,K,H,W] -> [N,K,C] mean of codes over each class region (0 when absent)."""
    area = seg.sum(dim=(2, 3))  # [N,K]
    sums = torch.einsum('nchw,nkhw->nkc', codes, seg)
    return sums / torch.clamp(area, min=1.0).unsqueeze(-1)


def select_codes(codes: torch.Tensor, mean_codes: torch.Tensor) -> torch.Tensor:
    """codes [B,K,C]; a class whose code is all zero takes mean_codes [K,C] (decode_sean's fallback)."""
    absent = (codes.abs().sum(dim=-1, keepdim=True) == 0)
    return torch.where(absent, mean_codes.unsqueeze(0).to(codes.dtype), codes)


def scatter_class_styles(styles: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
    """styles [B,K,C], seg one-hot [B or 1,K,H,W] -> [B,C,H,W] with each pixel set to its class's style."""
    return torch.einsum('bkc,bkhw->bchw', styles, seg.expand(styles.shape[0], -1, -1, -1))


def modulate(normalized: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    """normalized * (1 + gamma) + beta, written so that a small gamma survives half precision: 1 + gamma rounds
    to 1 in fp16 for |gamma| < 4.9e-4 (its step at 1), which drops the whole modulation."""
    return normalized + normalized * gamma + beta


class DenseACE(nn.Module):
    """ACE (normalization.py) in UI mode, taking the selected style codes [B,K,512] instead of obj_dic."""

    def __init__(self, param_free_norm: nn.Module, spade: nn.Module, fc_mu: list[nn.Linear] | None,
                 conv_gamma: nn.Module | None, conv_beta: nn.Module | None,
                 blending_gamma: torch.Tensor | None, blending_beta: torch.Tensor | None):
        super().__init__()
        self.param_free_norm = param_free_norm
        self.spade = spade
        self.use_rgb = fc_mu is not None
        if self.use_rgb:
            self.register_buffer('fc_w', torch.stack([m.weight.detach() for m in fc_mu]))  # [K,out,in]
            self.register_buffer('fc_b', torch.stack([m.bias.detach() for m in fc_mu]))  # [K,out]
            self.conv_gamma = conv_gamma
            self.conv_beta = conv_beta
            self.register_buffer('blending_gamma', blending_gamma.detach().clone())
            self.register_buffer('blending_beta', blending_beta.detach().clone())

    @classmethod
    def from_official(cls, ace: nn.Module) -> 'DenseACE':
        if ace.use_rgb:
            fcs = [getattr(ace, f'fc_mu{j}') for j in range(19)]
            return cls(ace.param_free_norm, ace.Spade, fcs, ace.conv_gamma, ace.conv_beta,
                       ace.blending_gamma, ace.blending_beta)
        return cls(ace.param_free_norm, ace.Spade, None, None, None, None, None)

    def forward(self, x: torch.Tensor, segmap: torch.Tensor, style_codes=None, obj_dic=None) -> torch.Tensor:
        normalized = self.param_free_norm(x)
        seg = nearest_resize(segmap, (x.shape[2], x.shape[3]))
        gamma_spade, beta_spade = self.spade(seg)
        if not self.use_rgb:
            return modulate(normalized, gamma_spade, beta_spade)
        codes = obj_dic  # [B,K,512], already through select_codes
        mu = F.relu(torch.einsum('bki,koi->bko', codes, self.fc_w) + self.fc_b.unsqueeze(0))
        middle_avg = scatter_class_styles(mu, seg)  # an absent class has no pixel, as the official skip
        gamma_avg = self.conv_gamma(middle_avg)
        beta_avg = self.conv_beta(middle_avg)
        ga = torch.sigmoid(self.blending_gamma)
        ba = torch.sigmoid(self.blending_beta)
        gamma_final = ga * gamma_avg + (1 - ga) * gamma_spade
        beta_final = ba * beta_avg + (1 - ba) * beta_spade
        return modulate(normalized, gamma_final, beta_final)

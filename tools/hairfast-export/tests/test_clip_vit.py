import unittest

import torch
from torch import nn

import _path  # noqa: F401  (puts tools/hairfast-export on sys.path)
from hairfast_export.clip_vit import SelfAttention, VisionTransformer

TOL = 1e-5


class ClipVitTest(unittest.TestCase):
    def test_attention_matches_multihead_attention(self):
        torch.manual_seed(0)
        ours = SelfAttention(32, 4).eval()
        ref = nn.MultiheadAttention(32, 4).eval()  # CLIP's attention module, sequence-first
        ref.load_state_dict({'in_proj_weight': ours.in_proj_weight, 'in_proj_bias': torch.randn(96),
                             'out_proj.weight': ours.out_proj.weight, 'out_proj.bias': ours.out_proj.bias})
        with torch.no_grad():
            ours.in_proj_bias.copy_(ref.in_proj_bias)
            x = torch.randn(2, 7, 32)
            got = ours(x)
            xl = x.permute(1, 0, 2)
            want = ref(xl, xl, xl, need_weights=False)[0].permute(1, 0, 2)
        self.assertLess((got - want).abs().max().item(), TOL)

    def test_vision_transformer_shapes_and_state_dict(self):
        vit = VisionTransformer(input_resolution=64, patch_size=32, width=16, layers=2, heads=2, output_dim=8).eval()
        with torch.no_grad():
            out = vit(torch.randn(2, 3, 64, 64))
        self.assertEqual(tuple(out.shape), (2, 8))
        keys = set(vit.state_dict())
        for k in ['conv1.weight', 'class_embedding', 'positional_embedding', 'ln_pre.weight', 'proj',
                  'transformer.resblocks.0.attn.in_proj_weight', 'transformer.resblocks.0.attn.out_proj.weight',
                  'transformer.resblocks.1.mlp.c_fc.weight', 'transformer.resblocks.1.mlp.c_proj.bias', 'ln_post.bias']:
            self.assertIn(k, keys)

    def test_default_is_vit_b32(self):
        vit = VisionTransformer()
        self.assertEqual(tuple(vit.positional_embedding.shape), (50, 768))
        self.assertEqual(tuple(vit.proj.shape), (768, 512))
        self.assertEqual(len(vit.transformer.resblocks), 12)


if __name__ == '__main__':
    unittest.main()

"""Strict checkpoint loading (hairfast_export/checkpoints.py): keys, shapes, unreadable and unsafe files, CLIP, key
accounting; and export.py's typed failures (exit 2, error[CODE], no traceback)."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import unittest
from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

import _path  # noqa: F401  (puts tools/hairfast-export on sys.path)
from hairfast_export.checkpoints import Checkpoints, flatten
from hairfast_export.errors import ExportError

EXPORT = Path(__file__).resolve().parent.parent / 'export.py'


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.norm = nn.BatchNorm1d(3)


class Evil:
    def __reduce__(self):
        return (os.system, (f'touch {Evil.marker}',))


class StrictLoadingTest(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix='strict-load-'))
        torch.manual_seed(0)
        self.state = Tiny().state_dict()

    def save(self, rel, obj):
        (self.tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        torch.save(obj, self.tmp / rel)

    def error(self, fn) -> ExportError:
        with self.assertRaises(ExportError) as ctx:
            fn()
        return ctx.exception

    def test_exact_keys_load_and_are_consumed(self):
        self.save('M/m.pth', {'model_state_dict': self.state, 'optimizer_state_dict': {'state': {0: {}}, 'param_groups': []},
                              'epoch': 3})
        ck = Checkpoints(self.tmp)
        m = ck.load_strict(Tiny(), ck.get('M/m.pth', 'model_state_dict'), 'M/m.pth', 'model_state_dict', 'Tiny')
        self.assertTrue(torch.equal(m.fc.weight, self.state['fc.weight']))
        self.assertEqual(ck.unconsumed(), {'M/m.pth': ['optimizer_state_dict/state', 'optimizer_state_dict/param_groups',
                                                       'epoch']})

    def test_missing_and_unexpected_keys_are_named(self):
        renamed = OrderedDict((k.replace('fc.', 'fc_renamed.'), v) for k, v in self.state.items())
        self.save('M/m.pth', renamed)
        ck = Checkpoints(self.tmp)
        e = self.error(lambda: ck.load_strict(Tiny(), ck.get('M/m.pth'), 'M/m.pth', '', 'Tiny'))
        self.assertEqual(e.code, 'CHECKPOINT_KEYS')
        self.assertEqual(sorted(e.details['missing']), ['fc.bias', 'fc.weight'])
        self.assertEqual(sorted(e.details['unexpected']), ['fc_renamed.bias', 'fc_renamed.weight'])
        self.assertIn('fc.weight', e.message)
        self.assertIn('fc_renamed.weight', e.message)

    def test_optional_missing_prefix_only(self):
        partial = {k: v for k, v in self.state.items() if not k.startswith('norm.')}
        ck = Checkpoints(self.tmp)
        ck.load_strict(Tiny(), partial, 'M/m.pth', '', 'Tiny', optional_missing=('norm.',))
        e = self.error(lambda: ck.load_strict(Tiny(), partial, 'M/m.pth', '', 'Tiny', optional_missing=('fc.',)))
        self.assertIn('norm.weight', e.details['missing'])

    def test_wrong_shapes(self):
        bad = dict(self.state, **{'fc.weight': torch.zeros(5, 4)})
        e = self.error(lambda: Checkpoints(self.tmp).load_strict(Tiny(), bad, 'M/m.pth', '', 'Tiny'))
        self.assertEqual(e.code, 'CHECKPOINT_SHAPES')
        self.assertIn('fc.weight (5, 4) (expected (3, 4))', e.message)

    def test_missing_nested_key_lists_what_is_there(self):
        self.save('M/m.pth', {'state_dict': self.state})
        e = self.error(lambda: Checkpoints(self.tmp).get('M/m.pth', 'model_state_dict'))
        self.assertEqual(e.code, 'CHECKPOINT_KEYS')
        self.assertIn("no key 'model_state_dict' (has: ['state_dict'])", e.message)

    def test_missing_file(self):
        e = self.error(lambda: Checkpoints(self.tmp).load('Rotate/rotate_best.pth'))
        self.assertEqual(e.code, 'CHECKPOINT_MISSING')
        self.assertIn('Rotate/rotate_best.pth', e.fix)

    def test_truncated_file(self):
        self.save('M/m.pth', {'model_state_dict': self.state})
        data = (self.tmp / 'M/m.pth').read_bytes()
        (self.tmp / 'M/m.pth').write_bytes(data[:len(data) // 2])
        e = self.error(lambda: Checkpoints(self.tmp).load('M/m.pth'))
        self.assertEqual(e.code, 'CHECKPOINT_UNREADABLE')
        self.assertIn('truncated', e.fix)

    def test_plain_data_classes_load_through_the_restricted_unpickler(self):
        self.save('E/e.pt', {'opts': argparse.Namespace(stylegan_size=1024), 'latent_avg': torch.ones(2)})
        with self.assertRaises(Exception):  # the weights-only unpickler alone refuses it (why there is a second tier)
            torch.load(self.tmp / 'E/e.pt', weights_only=True)
        obj = Checkpoints(self.tmp).load('E/e.pt')
        self.assertEqual(obj['opts'].stylegan_size, 1024)

    def test_code_in_a_pickle_is_refused_and_not_run(self):
        Evil.marker = self.tmp / 'ran'
        self.save('X/x.pth', {'model_state_dict': self.state, 'payload': Evil()})
        e = self.error(lambda: Checkpoints(self.tmp).load('X/x.pth'))
        self.assertEqual(e.code, 'CHECKPOINT_UNSAFE')
        self.assertIn('posix.system', e.message.replace('os.system', 'posix.system'))
        self.assertFalse(Evil.marker.exists())

    def test_clip_from_the_cache_path_or_a_file(self):
        e = self.error(lambda: Checkpoints(self.tmp, self.tmp / 'nowhere' / 'ViT-B-32.pt').clip_state())
        self.assertEqual(e.code, 'CLIP_MISSING')
        self.assertIn('--clip', e.fix)
        self.assertIn(str(Path('~/.cache/clip').expanduser()), e.message)
        self.assertEqual(Checkpoints(self.tmp).clip_file, Path('~/.cache/clip/ViT-B-32.pt').expanduser())

        class Clipish(nn.Module):
            def __init__(self):
                super().__init__()
                self.visual = nn.Linear(2, 2)
                self.token_embedding = nn.Embedding(3, 2)

            def forward(self, x):
                return self.visual(x)

        path = self.tmp / 'ViT-B-32.pt'
        torch.jit.trace(Clipish(), torch.zeros(1, 2)).save(str(path))
        ck = Checkpoints(self.tmp, path)
        self.assertEqual(sorted(ck.clip_state()), ['token_embedding.weight', 'visual.bias', 'visual.weight'])
        ck.mark('clip:ViT-B-32.pt', 'visual.bias', 'visual.weight')
        self.assertEqual(ck.unconsumed(), {'clip:ViT-B-32.pt': ['token_embedding.weight']})

    def test_flatten(self):
        self.assertEqual(flatten({'a': {'b.c': torch.zeros(1)}, 'o': {0: 1}, 'n': 2}), ['a/b.c', 'o', 'n'])
        self.assertEqual(flatten(torch.zeros(2)), [''])


class ExportFailureTest(unittest.TestCase):
    def run_export(self, *args):
        return subprocess.run([sys.executable, str(EXPORT), *args], capture_output=True, text=True, timeout=120)

    def test_not_a_checkout_exits_2_with_a_typed_error(self):
        with tempfile.TemporaryDirectory() as d:
            done = self.run_export('--src', d, '--checkpoints', d, '--only', 'align_f', '--out', str(Path(d) / 'out'))
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertIn('error[SRC_INVALID]', done.stderr)
        self.assertIn('fix:', done.stderr)
        self.assertNotIn('Traceback', done.stderr)
        events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{')]
        self.assertEqual(events[-1]['event'], 'error')
        self.assertEqual(events[-1]['code'], 'SRC_INVALID')


if __name__ == '__main__':
    unittest.main()

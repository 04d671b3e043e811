"""official_tree.py writes files the official loaders read; Official (export side) reads them strictly: same weights
as the seeded random init, renamed keys / another CLIP / truncation fail with typed errors. Needs the official code
($HAIRFAST_SRC or the workplace mirror, tests/official_src.py)."""
import json
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import torch

import _path  # noqa: F401
from official_src import official_src

SRC = official_src()
TREE = Path(__file__).resolve().parent.parent / 'official_tree.py'


@unittest.skipIf(SRC is None, 'the official HairFastGAN code is needed (set HAIRFAST_SRC)')
class OfficialTreeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.out = Path(tempfile.mkdtemp(prefix='official-tree-'))
        cls.root = cls.out / 'pretrained_models'
        done = subprocess.run([sys.executable, str(TREE), '--src', str(SRC), '--out', str(cls.out), '--seed', '3',
                               '--files', 'Rotate/rotate_best.pth,Blending/checkpoint.pth'],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        cls.events = [json.loads(line) for line in done.stdout.splitlines()]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.out, ignore_errors=True)

    def official(self, root=None):
        from hairfast_export.official import Official
        return Official(SRC, root, 3)

    def copy_tree(self) -> Path:
        d = Path(tempfile.mkdtemp(prefix='official-tree-copy-'))
        self.addCleanup(shutil.rmtree, d, True)
        shutil.copytree(self.root, d / 'pretrained_models')
        return d / 'pretrained_models'

    def test_marker_and_official_layout(self):
        marker = json.loads((self.root / '.hairstyler-tree.json').read_text())
        self.assertEqual((marker['kind'], marker['seed']), ('random', 3))
        self.assertEqual(marker['files']['Rotate/rotate_best.pth'], (self.root / 'Rotate/rotate_best.pth').stat().st_size)
        ck = torch.load(self.root / 'Rotate/rotate_best.pth', weights_only=True)
        self.assertEqual(list(ck), ['model_state_dict'])  # Alignment: torch.load(rotate_checkpoint)['model_state_dict']
        blend = torch.load(self.root / 'Blending/checkpoint.pth', weights_only=True)
        self.assertEqual(blend['clip'], 'ViT-B/32')  # Blending: blending_checkpoint.get('clip', "ViT-B/32")

    def test_rerun_skips_complete_files(self):
        done = subprocess.run([sys.executable, str(TREE), '--src', str(SRC), '--out', str(self.out), '--seed', '3',
                               '--files', 'Rotate/rotate_best.pth'], capture_output=True, text=True, timeout=300)
        self.assertEqual(json.loads(done.stdout.splitlines()[0])['event'], 'skip')

    def test_strict_load_gives_the_seeded_weights(self):
        from_tree = self.official(self.root).rotate_model().state_dict()
        seeded = self.official().rotate_model().state_dict()
        self.assertEqual(list(from_tree), list(seeded))
        for k in seeded:
            self.assertTrue(torch.equal(from_tree[k], seeded[k]), k)

    def test_official_loader_reads_it(self):
        from models.Encoders import RotateModel  # the official class and Alignment.__init__'s loading line
        m = RotateModel()
        m.load_state_dict(torch.load(str(self.root / 'Rotate/rotate_best.pth'))['model_state_dict'])

    def test_renamed_key(self):
        from hairfast_export.errors import ExportError
        root = self.copy_tree()
        ck = torch.load(root / 'Rotate/rotate_best.pth')
        sd = ck['model_state_dict']
        sd['pixelnorm_x'] = sd.pop('modulation_module_list.4.fc.weight')
        torch.save(ck, root / 'Rotate/rotate_best.pth')
        with self.assertRaises(ExportError) as e:
            self.official(root).rotate_model()
        self.assertEqual(e.exception.code, 'CHECKPOINT_KEYS')
        self.assertEqual(e.exception.details['missing'], ['modulation_module_list.4.fc.weight'])
        self.assertEqual(e.exception.details['unexpected'], ['pixelnorm_x'])

    def test_blending_honours_its_clip_entry(self):
        from hairfast_export.errors import ExportError
        root = self.copy_tree()
        ck = torch.load(root / 'Blending/checkpoint.pth')
        ck['clip'] = 'ViT-L/14'
        torch.save(ck, root / 'Blending/checkpoint.pth')
        with self.assertRaises(ExportError) as e:
            self.official(root).blending_encoder()
        self.assertEqual(e.exception.code, 'CLIP_UNSUPPORTED')
        self.assertIn("'ViT-L/14'", e.exception.message)

    def test_blending_missing_modulation_key_is_not_dropped(self):
        from hairfast_export.errors import ExportError
        root = self.copy_tree()
        ck = torch.load(root / 'Blending/checkpoint.pth')
        del ck['model_state_dict']['modulation_module_list.0.fc.bias']
        torch.save(ck, root / 'Blending/checkpoint.pth')
        with self.assertRaises(ExportError) as e:  # the official strict=False would keep a random bias silently
            self.official(root).blending_encoder()
        self.assertEqual(e.exception.details['missing'], ['modulation_module_list.0.fc.bias'])

    def test_blending_text_tower_keys_are_reported_not_consumed(self):
        root = self.copy_tree()
        ck = torch.load(root / 'Blending/checkpoint.pth')
        ck['model_state_dict']['clip_model.token_embedding.weight'] = torch.zeros(3, 2)
        ck['optimizer_state_dict'] = {'state': {0: {}}, 'param_groups': []}
        torch.save(ck, root / 'Blending/checkpoint.pth')
        o = self.official(root)
        o.blending_encoder()
        self.assertEqual(sorted(o.ck.unconsumed()['Blending/checkpoint.pth']),
                         ['model_state_dict/clip_model.token_embedding.weight', 'optimizer_state_dict/param_groups',
                          'optimizer_state_dict/state'])


if __name__ == '__main__':
    unittest.main()

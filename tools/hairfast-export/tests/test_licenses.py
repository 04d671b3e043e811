"""The manifest licenses the exporter writes, from src/model-build/upstream-licenses.json."""
import unittest

import _path  # noqa: F401  (puts tools/hairfast-export on sys.path)
from hairfast_export.licenses import graph_licenses, license_summary, load_table
from hairfast_export.onnx_io import load_contract


class LicensesTest(unittest.TestCase):
    def test_every_contract_graph_has_its_parts(self):
        table = load_table()
        contract = load_contract()
        self.assertEqual(sorted(table['graphs']), sorted([*contract['graphs'], *contract.get('composites', {})]))
        parts = {e['part']: e for e in graph_licenses('embed', 'official')}
        self.assertEqual(parts['feature-style-encoder']['use'], 'evaluation-only')
        self.assertEqual(parts['stylegan2-ffhq']['use'], 'non-commercial')
        self.assertIn('restricted: ', license_summary(list(parts.values())))

    def test_random_weights_keep_only_the_code_terms(self):
        sean = {e['part']: e for e in graph_licenses('sean_decode', 'random', seed=3)}
        self.assertEqual(sean['sean']['use'], 'non-commercial')  # SEAN's code itself is CC BY-NC-SA
        self.assertEqual(sean['sean']['weights'], 'random init (seed 3): no upstream weights')
        gen = {e['part']: e for e in graph_licenses('g_f32_to_img', 'random', seed=0)}
        self.assertEqual(gen['stylegan2-ffhq']['use'], 'open')  # rosinality's MIT code; the NVIDIA weights are not in it
        self.assertEqual(license_summary(graph_licenses('align_f', 'official')), 'open licenses only (MIT/BSD)')

    def test_unknown_graph_is_named(self):
        with self.assertRaisesRegex(KeyError, 'nope'):
            graph_licenses('nope', 'official')


if __name__ == '__main__':
    unittest.main()

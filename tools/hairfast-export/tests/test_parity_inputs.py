import io
import unittest

import numpy as np
import torch
from PIL import Image

import _path  # noqa: F401  (puts tools/hairfast-export on sys.path)
import parity


class EightBitInputsTest(unittest.TestCase):
    """parity.py --ts gives the official swap and `hairstyler transfer` the same values: k/255 images via PNG."""

    def test_images_survive_a_png_round_trip_exactly_and_keep_their_roles(self):
        for mode in parity.MODES:
            face, shape, color = parity.mode_images(mode, 0, eight_bit=True)
            self.assertEqual((shape is face, color is face), {'both': (False, False), 'shape': (False, True),
                                                               'color': (True, False), 'same': (True, True)}[mode])
        for img in parity.mode_images('both', 0, eight_bit=True):
            self.assertEqual(img.dtype, torch.float32)
            u8 = torch.round(img * 255).to(torch.uint8)
            buf = io.BytesIO()
            Image.fromarray(u8.permute(1, 2, 0).numpy(), 'RGB').save(buf, format='PNG')
            back = torch.from_numpy(np.asarray(Image.open(buf)).copy()).permute(2, 0, 1)
            self.assertTrue(torch.equal(back / 255, img))
            self.assertGreater(float(img.std()), 0.05)

    def test_float_images_are_not_8_bit_without_the_flag(self):
        face = parity.mode_images('both', 0)[0]
        self.assertFalse(torch.equal(torch.round(face * 255) / 255, face))

    def test_psnr(self):
        want = torch.zeros(3, 4, 4)
        got = np.full((3, 4, 4), 0.01, np.float32)
        psnr, max_abs = parity.psnr_of(got, want)
        self.assertAlmostEqual(psnr, 40.0, places=4)
        self.assertAlmostEqual(max_abs, 0.01, places=6)
        self.assertEqual(parity.psnr_of(np.zeros((3, 4, 4)), want)[0], float('inf'))


if __name__ == '__main__':
    unittest.main()

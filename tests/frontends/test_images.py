"""Image files as inputs: the documented preprocessing, step by step."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from netdraw.frontends.images import ImagePrep, load_image, parse_size
from netdraw.errors import NetdrawError
from tests.conftest import ROOT

CAT = ROOT / "examples" / "images" / "chelsea.jpg"


def test_crop_resize_normalise():
    a = load_image(CAT)
    assert a.shape == (1, 3, 224, 224) and a.dtype == np.float32
    im = Image.open(CAT).convert("RGB")  # 336×224: already 224 high, so only the centre crop
    want = np.asarray(im, np.float32)[:, 56:280] / 255.0
    want = (want - np.array([0.485, 0.456, 0.406], np.float32)) / np.array([0.229, 0.224, 0.225], np.float32)
    assert np.allclose(a[0].transpose(1, 2, 0), want, atol=1e-5)


def test_bgr_nhwc_raw_pixels_and_size_from_the_model():
    prep = ImagePrep(mean=(0,), std=(1,), pixel_range=255, bgr=True, nhwc=True, resize="stretch")
    a = load_image(CAT, prep, shape=("batch", 64, 96, 3))
    assert a.shape == (1, 64, 96, 3)
    rgb = np.asarray(Image.open(CAT).convert("RGB").resize((96, 64), Image.BILINEAR), np.float32)
    assert np.array_equal(a[0], rgb[:, :, ::-1])
    grey = load_image(CAT, shape=(1, 1, 28, 28))
    assert grey.shape == (1, 1, 28, 28)


def test_bad_images(tmp_path):
    bad = tmp_path / "not.jpg"
    bad.write_text("hello")
    with pytest.raises(NetdrawError, match="not an image"):
        load_image(bad)
    with pytest.raises(NetdrawError, match="no such image"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(NetdrawError, match="takes 4 channels"):
        load_image(CAT, shape=(1, 4, 32, 32))
    with pytest.raises(NetdrawError, match="invalid image size"):
        parse_size("12x")

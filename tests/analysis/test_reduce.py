"""The reduction of one activation to a thumbnail record, and finishing it for a picture."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from netdraw.records import decode, finish
from netdraw.analysis.reduce import ThumbnailOptions, reduce_tensor
from netdraw.errors import NetdrawError


def maps(values: list[list[float]], hw: int = 8) -> torch.Tensor:
    """(1, C, hw, hw): channel c holds values[c] spread over its pixels (first pixel = max)."""
    out = torch.zeros(1, len(values), hw, hw)
    for c, vals in enumerate(values):
        flat = torch.linspace(vals[1], vals[0], hw * hw).flip(0)
        out[0, c] = flat.reshape(hw, hw)
    return out


def test_top_k_by_max_and_by_mean():
    # channel: (max, min) -> mean is their midpoint
    t = maps([[1, 0], [9, -9], [5, 4], [3, 3], [7, -1]])
    by_max = reduce_tensor(t, ThumbnailOptions(k=3, rank="max"))
    assert by_max["channels"] == [1, 4, 2]
    assert by_max["scores"] == [9.0, 7.0, 5.0]
    by_mean = reduce_tensor(t, ThumbnailOptions(k=3, rank="mean"))
    assert by_mean["channels"] == [2, 3, 4]
    assert by_mean["scores"] == [4.5, 3.0, 3.0]


def test_ties_go_to_the_lower_channel():
    t = torch.zeros(1, 6, 4, 4)
    t[0, 5] = 2.0
    rec = reduce_tensor(t, ThumbnailOptions(k=3))
    assert rec["channels"] == [5, 0, 1]


def test_each_map_is_scaled_by_its_own_percentiles():
    g = torch.Generator().manual_seed(0)
    t = torch.randn(1, 3, 16, 16, generator=g) * torch.tensor([1.0, 10.0, 100.0])[None, :, None, None]
    rec = finish(reduce_tensor(t, ThumbnailOptions(k=3)))
    for i, c in enumerate(rec["channels"]):
        m = t[0, c].numpy().astype(np.float16).astype(np.float32)  # the record keeps float16 maps
        lo, hi = np.percentile(m, [1, 99])
        assert rec["scale"][i] == pytest.approx([lo, hi], rel=1e-4)
        want = np.rint(np.clip((m - lo) / (hi - lo), 0, 1) * 255).astype(np.uint8)
        assert np.abs(decode(rec)[i].astype(int) - want).max() <= 1
    assert "raw" not in rec


def test_a_constant_map_is_safe():
    t = torch.full((1, 2, 5, 5), 3.0)
    rec = finish(reduce_tensor(t, ThumbnailOptions(k=2)))
    assert rec["scale"] == [[3.0, 3.0], [3.0, 3.0]]
    assert decode(rec).max() == 0


def test_large_maps_are_downsampled_by_area():
    t = torch.arange(64 * 64, dtype=torch.float32).reshape(1, 1, 64, 64)
    rec = reduce_tensor(t, ThumbnailOptions(k=1, size=16))
    assert rec["tile"] == [16, 16]
    assert rec["shape"] == [1, 1, 64, 64]
    raw = np.frombuffer(__import__("base64").b64decode(rec["raw"]), np.float16).reshape(16, 16)
    want = t[0, 0].reshape(16, 4, 16, 4).mean(dim=(1, 3)).numpy()
    assert np.allclose(raw, want, rtol=1e-3)


@pytest.mark.parametrize("h, w, size, tile", [(56, 56, 32, (28, 28)), (112, 112, 32, (28, 28)), (224, 224, 32, (32, 32)),
                                              (96, 48, 16, (16, 8)), (60, 60, 16, (15, 15)), (50, 30, 16, (16, 10)),
                                              (53, 37, 16, (16, 11)), (9, 9, 4, (3, 3))])
def test_every_downsampling_path_is_an_area_average(h, w, size, tile):
    """Halvings (56, 112, 96x48), avg_pool2d for an odd factor (224 / 7, 9 / 3) or what is left after
    halvings (60 / 4), adaptive when no whole factor divides both sides (53x37)."""
    import torch.nn.functional as F

    from netdraw.analysis.reduce import downsample

    x = torch.randn(5, h, w, generator=torch.Generator().manual_seed(h * w))
    got = downsample(x, size)
    assert tuple(got.shape[1:]) == tile
    assert torch.allclose(got, F.adaptive_avg_pool2d(x, tile), atol=1e-6)


def test_vectors_tokens_and_pooled_maps():
    opts = ThumbnailOptions(k=4, size=32)
    assert reduce_tensor(torch.randn(1, 1000), opts)["layout"] == "strip"
    assert reduce_tensor(torch.randn(1, 1000), opts)["tile"] == [1, 64]
    pooled = reduce_tensor(torch.randn(1, 512, 1, 1), opts)
    assert (pooled["layout"], pooled["tile"]) == ("strip", [1, 64])
    bert = reduce_tensor(torch.randn(1, 16, 768), opts)
    assert (bert["layout"], bert["tile"]) == ("matrix", [16, 64])
    vit = reduce_tensor(torch.randn(1, 197, 192), opts)  # CLS + 14×14 patches
    assert (vit["layout"], vit["tile"], vit["skipped_tokens"]) == ("grid", [14, 14], 1)
    assert len(vit["channels"]) == 4
    assert reduce_tensor(torch.randn(1, 16, 768), ThumbnailOptions(tokens="grid"))["tile"] == [4, 4]


def test_what_has_no_picture():
    opts = ThumbnailOptions()
    assert reduce_tensor(torch.ones(1, 3, dtype=torch.int64), opts) is None
    assert reduce_tensor(torch.ones(1, 3, dtype=torch.bool), opts) is None
    assert reduce_tensor(torch.tensor(2.0), opts) is None
    assert reduce_tensor(torch.empty(1, 0, 4), opts) is None


def test_values_beyond_float16_stay_float32():
    t = torch.zeros(1, 1, 4, 4)
    t[0, 0, 0, 0] = 1e6
    rec = reduce_tensor(t, ThumbnailOptions(k=1))
    assert rec["raw_dtype"] == "float32"
    assert finish(rec)["scale"][0][1] == 850000.0  # the 99th percentile of 15 zeros and 1e6


def test_rgb_inputs_keep_their_colours():
    t = torch.zeros(1, 3, 8, 8)
    t[0, 0] = 1.0  # pure red
    rec = finish(reduce_tensor(t, ThumbnailOptions(), rgb=True))
    assert rec["layout"] == "rgb"
    px = decode(rec)[:, 0, 0]
    assert px.tolist() == [255, 0, 0]


@pytest.mark.parametrize("bad", [{"k": 0}, {"rank": "median"}, {"size": 1}, {"tokens": "rows"}, {"colour": 1}])
def test_bad_options(bad):
    with pytest.raises(NetdrawError, match="thumbnail"):
        ThumbnailOptions.of(bad)


def test_a_monotone_op_is_derived_exactly_or_not_at_all():
    from netdraw.analysis.reduce import complete, derive, start

    g = torch.Generator().manual_seed(3)
    y = torch.randn(1, 8, 12, 12, generator=g)
    y[0, :5] += torch.tensor([6.0, 5.0, 4.0, 3.0, 2.0])[:, None, None]
    opts = ThumbnailOptions(k=3, size=8)
    for op, f in (("relu", torch.relu), ("sigmoid", torch.sigmoid), ("tanh", torch.tanh)):
        got = derive(start(y, opts), op)
        assert got is not None
        assert complete([got])[0] == reduce_tensor(f(y), opts)
    # every map negative: relu makes their maxima equal (0), so the channels must be chosen again
    neg = -y.abs() - 1
    assert derive(start(neg, opts), "relu") is None
    assert derive(start(y, ThumbnailOptions(rank="mean")), "relu") is None


@pytest.mark.parametrize("case", ["random", "tie_at_cut", "tie_in_top", "nan", "few_channels", "mean"])
def test_a_batch_of_one_gives_the_record_of_the_general_path(case):
    # (1, C, H, W) maps are read whole (channels on axis 1, no view of the sample); the same first
    # sample inside a batch of two is read through a view of it: the records must agree
    g = torch.Generator().manual_seed(5)
    t = torch.randn(1, 9, 14, 14, generator=g)
    opts = ThumbnailOptions(k=4, size=7, rank="mean" if case == "mean" else "max")
    if case == "tie_at_cut":  # the 4th and 5th strongest channels have the same maximum
        t[0, :5] += torch.tensor([9.0, 8.0, 7.0, 6.0, 6.0])[:, None, None] - t[0, :5].amax(dim=(1, 2))[:, None, None]
    elif case == "tie_in_top":
        t[0, 2:4] = t[0, 6] + 50.0
    elif case == "nan":
        t[0, 3, 2, 2] = float("nan")
    elif case == "few_channels":
        t = t[:, :4]
    one = reduce_tensor(t, opts)
    two = reduce_tensor(torch.cat([t, torch.randn(t.shape, generator=g)]), opts)
    assert one["shape"][0] == 1 and two["shape"][0] == 2
    one.pop("shape"), two.pop("shape")
    assert one == two
    assert len(one["channels"]) == min(4, t.shape[1])
    if case == "tie_at_cut":
        assert one["channels"] == [0, 1, 2, 3]
    if case == "tie_in_top":
        assert one["channels"][:2] == [2, 3]

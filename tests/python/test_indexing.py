"""Indexing against NumPy's answers: views for basic indexing, gathers for index tensors and masks."""
import numpy as np
import pytest

import tensorgrad as tg

CASES = [
    (1,), (-1,), (slice(1, None),), (slice(None, None, 2),), (Ellipsis, 0), (None, 1), (1, slice(0, 3), None),
    (slice(None), Ellipsis, slice(1, 3)), ([2, 0],), (slice(None), [1, 1, 3]), (Ellipsis, [0, 2]),
]


@pytest.mark.parametrize("index", CASES, ids=[repr(c) for c in CASES])
def test_getitem_matches_numpy(index):
    a = np.arange(3 * 4 * 5, dtype=np.float32).reshape(3, 4, 5)
    x = tg.from_numpy(a.copy())
    got = x[index if len(index) > 1 else index[0]]
    want = a[index if len(index) > 1 else index[0]]
    np.testing.assert_array_equal(got.numpy(), want)


def test_basic_indexing_gives_views_and_masks_gather():
    x = tg.zeros(3, 4)
    x[1:, ::2] = 5.0
    assert x.sum().item() == 20.0
    row = x[0]
    row += 1.0  # a view: writes through
    assert x[0].tolist() == [1.0] * 4
    mask = x > 2
    assert x[mask].tolist() == [5.0] * 4
    x[mask] = -1.0
    assert x.sum().item() == 0.0
    assert x[tg.tensor([True, False, True])].shape == (2, 4)


def test_indexing_is_differentiable():
    x = tg.arange(6, dtype=tg.float64).reshape(2, 3)
    x.requires_grad_()
    (x[:, 1] * 2 + x[[1, 1], 0].sum()).sum().backward()
    assert x.grad.tolist() == [[0.0, 2.0, 0.0], [4.0, 2.0, 0.0]]


def test_negative_index_lists_bool_scalars_and_refused_forms():
    x = tg.arange(12).reshape(3, 4)
    assert x[[-1, 0]].tolist() == [[8, 9, 10, 11], [0, 1, 2, 3]]
    with pytest.raises(IndexError, match="bool"):
        x[True]
    with pytest.raises(IndexError, match="separated by a slice"):
        tg.zeros(2, 3, 4)[0, :, [0, 1]]
    y = tg.zeros(2, 3)
    y[y == 0] = tg.tensor([1.0, 2.0, 3.0])  # broadcasts to the whole tensor: allowed
    assert y.tolist() == [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
    with pytest.raises(IndexError, match="in order is not supported"):
        y[y > 1.5] = tg.tensor([7.0, 8.0, 9.0, 10.0])

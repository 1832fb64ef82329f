"""Memory shared with NumPy and PyTorch without copies, both ways, with strides and lifetimes."""
import gc

import numpy as np
import pytest

import tensorgrad as tg


def test_numpy_view_shares_memory_with_the_tensor_and_its_strides():
    x = tg.arange(12, dtype=tg.float32).reshape(3, 4)
    view = x[:, 1::2]
    a = view.numpy()
    assert a.shape == (3, 2)
    assert a.strides == (16, 8)
    a[0, 0] = 100.0
    assert x[0, 1].item() == 100.0
    x[2, 3] = -1.0
    assert a[2, 1] == -1.0
    assert a.ctypes.data == view.data_ptr()


def test_numpy_array_outlives_the_tensor():
    a = tg.ones(1000).numpy()
    gc.collect()
    assert a.sum() == 1000.0


def test_from_numpy_shares_memory_and_keeps_the_array_alive():
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    t = tg.from_numpy(base[::2, 1:])
    assert tuple(t.shape) == (2, 5)
    assert t.stride() == (12, 1)
    base[2, 1] = 42.0
    assert t[1, 0].item() == 42.0
    t[0, 0] = -5.0
    assert base[0, 1] == -5.0
    del base
    gc.collect()
    assert t.sum().item() == pytest.approx(sum([-5.0, 2, 3, 4, 5, 42.0, 14, 15, 16, 17]))


def test_from_numpy_reversed_strides_and_dtypes():
    a = np.arange(5, dtype=np.int64)[::-1]
    t = tg.from_numpy(a)
    assert t.tolist() == [4, 3, 2, 1, 0]
    assert tg.from_numpy(np.array([True, False])).dtype == tg.bool_
    assert tg.from_numpy(np.zeros(2, np.float16)).dtype == tg.float16
    with pytest.raises(TypeError, match="uint8"):
        tg.from_numpy(np.zeros(3, np.uint8))


def test_asarray_shares_memory():
    x = tg.arange(6, dtype=tg.float64).reshape(2, 3)
    a = np.asarray(x)
    a[1, 2] = 7.5
    assert x[1, 2].item() == 7.5


def test_numpy_refuses_a_tensor_that_requires_grad_and_bfloat16():
    with pytest.raises(TypeError, match="detach"):
        tg.ones(2, requires_grad=True).numpy()
    with pytest.raises(TypeError, match="bfloat16"):
        tg.ones(2, dtype=tg.bfloat16).numpy()


torch = pytest.importorskip("torch")
from torch.utils import dlpack as torch_dlpack  # noqa: E402


def test_dlpack_to_torch_shares_memory():
    x = tg.arange(12, dtype=tg.float32).reshape(3, 4).transpose(0, 1)
    t = torch_dlpack.from_dlpack(x)
    assert tuple(t.shape) == (4, 3) and t.stride() == (1, 4)
    t[0, 1] = 99.0
    assert x[0, 1].item() == 99.0
    del x
    gc.collect()
    assert t[0, 1].item() == 99.0


def test_dlpack_from_torch_shares_memory_and_keeps_it_alive():
    src = torch.arange(20, dtype=torch.float64).reshape(4, 5)[1:, ::2]
    x = tg.from_dlpack(src)
    assert tuple(x.shape) == (3, 3) and x.stride() == (5, 2)
    src[0, 0] = -3.0
    assert x[0, 0].item() == -3.0
    del src
    gc.collect()
    assert x.sum().item() == pytest.approx(-3 + 7 + 9 + 10 + 12 + 14 + 15 + 17 + 19)
    assert tg.from_dlpack(torch.zeros(2, dtype=torch.int64)).dtype == tg.int64
    assert tg.from_dlpack(torch.zeros(2, dtype=torch.bfloat16)).dtype == tg.bfloat16


def test_dlpack_round_trip_and_capsules():
    x = tg.randn(2, 3)
    y = tg.from_dlpack(tg.to_dlpack(x))
    assert y.data_ptr() == x.data_ptr()
    capsule = tg.to_dlpack(x)
    t = torch_dlpack.from_dlpack(capsule)
    assert t.data_ptr() == x.data_ptr()
    with pytest.raises(TypeError, match="unused DLPack capsule"):
        tg.from_dlpack(capsule)  # consumed once already


def test_exports_keep_their_memory_when_the_tensor_gets_new_data():
    layer = tg.nn.Linear(3, 2)
    a = layer.weight.detach().numpy()
    before = a.copy()
    layer.to(tg.float64)  # set_data_: the parameter gets new memory
    assert layer.weight.dtype == tg.float64
    np.testing.assert_array_equal(a, before)  # the old memory is still alive for the array


def test_numpy_scalars_and_read_only_arrays():
    x = tg.ones(2, requires_grad=True)
    y = np.float32(2.0) * x
    assert isinstance(y, tg.Tensor) and y.requires_grad
    ro = np.arange(3.0)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        tg.from_numpy(ro)
    assert tg.tensor(ro).tolist() == [0.0, 1.0, 2.0]  # a copy is fine
    with pytest.raises(TypeError, match="bfloat16"):
        np.asarray(tg.ones(2, dtype=tg.bfloat16))  # an error, not an abort
    assert tg.tensor([2**53 + 1]).item() == 2**53 + 1
    assert (tg.ones(1) + 2**70).dtype == tg.float32

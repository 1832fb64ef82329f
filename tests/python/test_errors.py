"""Errors from the core arrive as tensorgrad.Error (a RuntimeError) with the core's message; bad Python
arguments as TypeError / IndexError / ValueError naming what was wrong."""
import pytest

import tensorgrad as tg


def test_core_errors_name_the_op_and_the_shapes():
    with pytest.raises(tg.Error, match=r"tg::matmul: inner dimensions differ: \[2, 3\] @ \[4, 5\]"):
        tg.ones(2, 3) @ tg.ones(4, 5)
    assert issubclass(tg.Error, RuntimeError)
    with pytest.raises(tg.Error, match="broadcast"):
        tg.ones(2, 3) + tg.ones(4)


def test_autograd_errors():
    x = tg.ones(3, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(tg.Error, match="a second time"):
        y.backward()
    h = x * 1.0
    z = (h * h).sum()
    h.mul_(2.0)
    with pytest.raises(tg.Error, match="modified in place"):
        z.backward()


def test_argument_errors():
    with pytest.raises(TypeError, match="expected a Tensor or a number"):
        tg.ones(2) + "a"
    with pytest.raises(IndexError, match="out of bounds"):
        tg.ones(2, 3)[2]
    with pytest.raises(IndexError, match="too many indices"):
        tg.ones(2)[0, 0]
    with pytest.raises(ValueError, match="ambiguous"):
        bool(tg.ones(2))
    with pytest.raises(ValueError, match="reduction"):
        tg.nn.functional.mse_loss(tg.ones(2), tg.ones(2), reduction="avg")
    with pytest.raises(tg.Error, match="cuda"):
        tg.ones(2).to("cuda")

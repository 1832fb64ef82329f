"""The type stub python/tensorgrad/_C.pyi is what python/tools/make_stubs.py writes from the bindings now:
a binding added or changed without regenerating it fails here."""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_the_committed_stub_matches_the_bindings():
    result = subprocess.run([sys.executable, str(ROOT / "python" / "tools" / "make_stubs.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_stub_names_every_tensor_method():
    import tensorgrad as tg

    stub = (ROOT / "python" / "tensorgrad" / "_C.pyi").read_text()
    for name in ("exp", "backward", "numpy", "__dlpack__", "reshape", "grad", "requires_grad_"):
        assert hasattr(tg.Tensor, name)
        assert f"def {name}(" in stub or f"    {name}:" in stub, name

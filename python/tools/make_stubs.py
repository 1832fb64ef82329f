"""Writes python/tensorgrad/_C.pyi, the type stub of the compiled module, from the signatures pybind11 puts
in every docstring, so editors complete and check calls into tensorgrad._C (and the names the package
re-exports). tests/python/test_stubs.py fails when the committed stub differs from what this writes.

    PYTHONPATH=build/python python3 python/tools/make_stubs.py [--check]
"""
import argparse
import ast
import inspect
import pathlib
import re
import sys

import tensorgrad._C as C

OUT = pathlib.Path(__file__).resolve().parent.parent / "tensorgrad" / "_C.pyi"
SUBMODULES = ["functional", "autograd", "nn", "optim", "data", "profiler", "memory"]


def clean(text):
    text = re.sub(r"tensorgrad\._C\.(\w+\.)*", "", text)
    text = text.replace("numpy.ndarray", "Any").replace("capsule", "Any").replace("handle", "Any")
    text = re.sub(r"\bobject\b", "Any", text)
    text = re.sub(r"= <[^>]*>", "= ...", text)  # defaults pybind11 prints as reprs
    text = re.sub(r"= (dtype|device)\.\w+", "= ...", text)
    text = re.sub(r"=\s*\(([^()]*)\)", "= ...", text)
    text = text.replace("Tuple[", "tuple[").replace("List[", "list[").replace("Dict[", "dict[")
    return text


def signatures(name, doc):
    """The `name(...) -> ...` lines of a pybind11 docstring (several when overloaded)."""
    out = []
    for line in (doc or "").splitlines():
        line = re.sub(r"^\d+\. ", "", line.strip())
        if line.startswith(name + "("):
            out.append(clean(line))
    return out


def valid(stub):
    try:
        ast.parse(stub)
        return True
    except SyntaxError:
        return False


def function_stub(name, obj, indent="", method=False):
    sigs = signatures(name, getattr(obj, "__doc__", ""))
    lines = []
    overloaded = len(sigs) > 1
    for sig in sigs or [f"{name}({'self, ' if method else ''}*args, **kwargs) -> Any"]:
        stub = f"def {sig}: ..."
        if not valid(stub):
            stub = f"def {name}({'self, ' if method else ''}*args, **kwargs) -> Any: ..."
        if overloaded:
            lines.append(indent + "@overload")
        lines.append(indent + stub)
    return lines


def class_stub(name, cls, indent=""):
    bases = [b.__name__ for b in cls.__bases__ if b.__module__.startswith("tensorgrad") and b.__name__ != "pybind11_object"]
    if issubclass(cls, BaseException):
        bases = [b.__name__ for b in cls.__bases__]
    lines = [f"{indent}class {name}{'(' + ', '.join(bases) + ')' if bases else ''}:"]
    body = []
    for attr, value in sorted(vars(cls).items()):
        if attr.startswith("__") and attr not in {"__init__", "__call__", "__getitem__", "__setitem__", "__len__",
                                                   "__iter__", "__next__", "__enter__", "__exit__", "__add__",
                                                   "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
                                                   "__truediv__", "__rtruediv__", "__pow__", "__rpow__", "__matmul__",
                                                   "__neg__", "__abs__", "__eq__", "__ne__", "__lt__", "__le__",
                                                   "__gt__", "__ge__", "__iadd__", "__isub__", "__imul__",
                                                   "__itruediv__", "__bool__", "__float__", "__int__", "__dlpack__",
                                                   "__dlpack_device__"}:
            continue
        if isinstance(value, property):
            doc = (value.fget.__doc__ or "") if value.fget else ""
            m = re.search(r"\(self: [^)]*\) -> (.+)", doc)
            ret = clean(m.group(1)).strip() if m else "Any"
            if not valid(f"x: {ret}"):
                ret = "Any"
            body.append(f"{indent}    {attr}: {ret}")
        elif callable(value):
            body.extend(function_stub(attr, value, indent + "    ", method=True))
        elif attr in getattr(cls, "__members__", {}):
            body.append(f"{indent}    {attr}: {name}")
    return lines + (body or [indent + "    ..."])


def module_stub(module, indent=""):
    lines = []
    for name, obj in sorted(vars(module).items()):
        if name.startswith("__") or inspect.ismodule(obj):
            continue
        if inspect.isclass(obj):
            lines.extend(class_stub(name, obj, indent))
        elif callable(obj):
            lines.extend(function_stub(name, obj, indent))
    return lines


def make():
    lines = ['"""Type stub of tensorgrad._C, written by python/tools/make_stubs.py from the bindings\' signatures."""',
             "from typing import Any, Callable, Iterator, Optional, Sequence, overload",
             "", "import numpy", ""]
    lines.extend(module_stub(C))
    for sub in SUBMODULES:
        lines.append("")
        lines.append(f"class {sub}:  # the submodule tensorgrad._C.{sub}")
        lines.extend(module_stub(getattr(C, sub), "    ") or ["    ..."])
    text = "\n".join(lines) + "\n"
    ast.parse(text)
    return text


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--check", action="store_true", help="exit 1 when the committed stub is out of date")
    a = p.parse_args()
    text = make()
    if a.check:
        if OUT.read_text() != text:
            print(f"{OUT} is out of date: run python/tools/make_stubs.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

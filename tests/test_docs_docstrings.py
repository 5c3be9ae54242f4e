"""The docstring rule of the API reference (docs/api/docstrings.py), which `make docs` enforces:
checked here on small made-up modules, then on rnnlab's own exports."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
import textwrap
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


rule = _load("rnnlab_docs_docstrings_under_test", ROOT / "docs" / "api" / "docstrings.py")


def documented(x: int, *rest: int, scale: float = 1.0, **options) -> float:
    """Scale the sum.

    Args:
        x: the first term.
        *rest: the other terms.
        scale (float): the factor.
        **options: ignored.

    Returns:
        The scaled sum.

    Raises:
        ValueError: never.
    """
    return scale * (x + sum(rest))


def missing_one(x: int, y: int) -> int:
    """Add.

    Args:
        x: the first term.

    Returns:
        The sum.
    """
    return x + y


def names_a_stranger(x: int) -> None:
    """Print nothing.

    Args:
        x: a number.
        z: not a parameter.
    """


def no_returns(x: int) -> int:
    """Double.

    Args:
        x: a number.
    """
    return 2 * x


def returns_nothing(x: int) -> None:
    """Ignore ``x``.

    Args:
        x: a number.
    """


def bare(x):
    return x


def test_sections_reads_entries_by_name_and_keeps_continuation_lines_out():
    found = rule.sections(documented.__doc__)
    assert found["Args"] == ["x", "*rest", "scale", "**options"]
    assert found["Returns"] == ["The scaled sum."]
    assert found["Raises"] == ["ValueError"]
    wrapped = rule.sections("""Head.

        Args:
            key: a PRNG key, described
                over two lines.
            n: the size.
        """)
    assert wrapped == {"Args": ["key", "n"]}


def test_a_function_documents_each_parameter_and_its_return_value():
    assert rule.function_problems("f", documented) == []
    assert rule.function_problems("f", returns_nothing) == []
    assert rule.function_problems("f", missing_one) == ["f: Args does not name y"]
    assert rule.function_problems("f", names_a_stranger) == ["f: Args names z, which it does not take"]
    assert rule.function_problems("f", no_returns) == ["f: no Returns section"]
    assert rule.function_problems("f", bare) == ["f: no docstring"]


@dataclasses.dataclass
class Plain:
    x: int
    y: int = dataclasses.field(default=0, metadata={"help": "the second"})


@dataclasses.dataclass
class Listed:
    """Two numbers.

    Attributes:
        x: the first.
        y: the second.
    """

    x: int
    y: int

    @property
    def total(self) -> int:
        return self.x + self.y

    def scaled(self, k: int) -> int:
        """``k`` times the total.

        Args:
            k: the factor.

        Returns:
            The product.
        """
        return k * self.total


class Pair(NamedTuple):
    a: int
    b: int


class Locked:
    """A lock."""

    def __init__(self, folder: str, what: str = "folder"):
        self.folder, self.what = folder, what


def test_classes_document_their_fields_members_and_constructor():
    # dataclass writes "Plain(x: int, y: int = 0)" as the docstring of a bare class: not one.
    assert rule.class_problems("Plain", Plain) == ["Plain: no docstring"]
    Plain.__doc__ = "Two numbers, the second by its help."
    try:
        assert rule.class_problems("Plain", Plain) == ["Plain: Attributes does not name x"]
    finally:
        Plain.__doc__ = "Plain(x: int, y: int = 0)"
    assert rule.class_problems("Listed", Listed) == ["Listed.total: no docstring"]
    assert rule.class_problems("Pair", Pair) == ["Pair: no docstring"]
    assert rule.class_problems("Locked", Locked) == ["Locked.__init__: Args does not name folder, what"]


def test_constants_and_modules(tmp_path, monkeypatch):
    pkg = tmp_path / "rulepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent('''\
        """A package."""
        from rulepkg.parts import LIMIT, SIZES, helper
        from rulepkg import parts

        __all__ = ["LIMIT", "SIZES", "helper", "parts"]
        '''))
    (pkg / "parts.py").write_text(textwrap.dedent('''\
        LIMIT = 10
        """The largest size."""
        SIZES = (1, 2)
        # a comment is not a docstring


        def helper(n):
            return n
        '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    kinds = {e.name: (e.kind, e.module) for e in rule.exports("rulepkg")}
    assert kinds == {"LIMIT": ("constant", "rulepkg.parts"), "SIZES": ("constant", "rulepkg.parts"),
                     "helper": ("function", "rulepkg.parts"), "parts": ("module", "rulepkg.parts")}
    assert rule.problems("rulepkg") == [
        "rulepkg.SIZES: no docstring (a string literal right after its assignment in rulepkg.parts)",
        "rulepkg.helper: no docstring",
        "rulepkg.parts: no module docstring",
    ]
    for name in [m for m in sys.modules if m == "rulepkg" or m.startswith("rulepkg.")]:
        monkeypatch.delitem(sys.modules, name)


@pytest.mark.parametrize("package", rule.PACKAGES)
def test_every_export_of_rnnlab_follows_the_rule(package):
    assert rule.problems(package) == []

"""The docstring rule of the API reference: what ``__all__`` exports must say what it is.

``make docs`` fails (through the site's hook, ``docs/api/pages.py``) on any problem this module
finds; ``tests/test_docs_docstrings.py`` checks the rule itself on small made-up modules. Standard
library only, so that the tests run without the docs tools.

The rule, for every name in ``__all__`` of :data:`PACKAGES`:

- a function or class has a docstring of its own (the ones ``dataclass`` and ``NamedTuple``
  write, ``TrainState(params, opt_state, step)``, do not count), and so has each public method
  and property of an exported class (those are on the page too);
- a function or method that takes parameters has an ``Args:`` section naming each of them
  (``*args`` / ``**kwargs`` by their names, without the stars) and none that it does not take;
  one whose return annotation is not ``None`` has a ``Returns:`` (or ``Yields:``) section;
- a dataclass or NamedTuple documents every field, in an ``Attributes:`` section or (a
  dataclass) by ``help`` in the field's metadata; a class with an ``__init__`` of its own
  documents its parameters as a function does;
- a module has a docstring; a constant has one as a string literal right after its assignment
  in the module that assigns it.

The style is Google's (``Args:``, ``Returns:``, ``Raises:``, ``Attributes:``): a section is a
line holding only its title, its entries indented below it as ``name: text`` or
``name (type): text``.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import pkgutil
import re
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: The packages whose ``__all__`` the API reference documents, in the order of its pages.
PACKAGES = ("rnnlab.capacity", "rnnlab.dynamics", "rnnlab.training", "rnnlab.analysis")

_SECTION = re.compile(r"^(\s*)(Args|Arguments|Parameters|Returns|Yields|Raises|Attributes|Examples?|Notes?|"
                      r"Warns|Warnings?|See Also|References|Other Parameters|Keyword Args|Methods):\s*$")
_ENTRY = re.compile(r"^(\**[A-Za-z_][A-Za-z0-9_]*)\s*(\([^)]*\))?\s*:")


@dataclass(frozen=True)
class Export:
    """One exported name: the package that exports it, the object, and where it is defined.

    Attributes:
        package: the package whose ``__all__`` names it (``rnnlab.capacity``).
        name: the exported name.
        obj: the object itself.
        module: the module that defines it (a module's own name for a module).
        kind: ``function``, ``class``, ``module`` or ``constant``.
    """

    package: str
    name: str
    obj: object
    module: str
    kind: str

    @property
    def path(self) -> str:
        """The dotted path the API page documents it by (``rnnlab.capacity.questions.rank``)."""
        return self.module if self.kind == "module" else f"{self.module}.{self.name}"


def exports(package: str) -> list[Export]:
    """Every name of ``package.__all__``, resolved to its object and defining module.

    Args:
        package: an importable package with ``__all__``.

    Returns:
        The exports in ``__all__``'s order.
    """
    pkg = importlib.import_module(package)
    found = []
    for name in pkg.__all__:
        obj = getattr(pkg, name)
        if isinstance(obj, types.ModuleType):
            found.append(Export(package, name, obj, obj.__name__, "module"))
        elif inspect.isclass(obj) or callable(obj) and hasattr(obj, "__module__"):
            kind = "class" if inspect.isclass(obj) else "function"
            found.append(Export(package, name, obj, obj.__module__, kind))
        else:
            found.append(Export(package, name, obj, _assigning_module(pkg, name, obj), "constant"))
    return found


def _assigning_module(pkg: types.ModuleType, name: str, obj: object) -> str:
    """The submodule of ``pkg`` (or ``pkg`` itself) whose top level assigns ``name`` to ``obj``."""
    candidates = [pkg.__name__]
    if hasattr(pkg, "__path__"):
        candidates += [f"{pkg.__name__}.{m.name}" for m in pkgutil.iter_modules(pkg.__path__)]
    for modname in candidates:
        module = importlib.import_module(modname)
        if vars(module).get(name) is obj and _assignment(module, name) is not None:
            return modname
    raise LookupError(f"{pkg.__name__}.{name}: no module of the package assigns it")


def _module_tree(module: types.ModuleType) -> ast.Module:
    return ast.parse(Path(inspect.getsourcefile(module)).read_text())


def _assignment(module: types.ModuleType, name: str) -> tuple[list[ast.stmt], int] | None:
    """The top-level statements of ``module`` and the index of the last one assigning ``name``."""
    body = _module_tree(module).body
    index = None
    for i, stmt in enumerate(body):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(
            stmt, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            index = i
    return None if index is None else (body, index)


def constant_docstring(module: types.ModuleType, name: str) -> str | None:
    """The string literal right after the top-level assignment of ``name`` in ``module``, if any.

    Args:
        module: the module that assigns the constant.
        name: the constant's name.

    Returns:
        The docstring, or None when the assignment is not followed by a string literal.
    """
    found = _assignment(module, name)
    if found is None:
        return None
    body, i = found
    if i + 1 < len(body):
        nxt = body[i + 1]
        if isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant) and isinstance(nxt.value.value, str):
            return inspect.cleandoc(nxt.value.value)
    return None


def sections(doc: str) -> dict[str, list[str]]:
    """The Google-style sections of ``doc`` and the entry names in each.

    Args:
        doc: a docstring, cleaned (``inspect.cleandoc``) or not.

    Returns:
        ``{title: [entry name, ...]}``; ``Returns`` and ``Raises`` entries are their first
        words (a type or an exception), the others their names (stars kept for ``*args``).
    """
    found: dict[str, list[str]] = {}
    lines = inspect.cleandoc(doc).splitlines()
    i = 0
    while i < len(lines):
        m = _SECTION.match(lines[i])
        if not m:
            i += 1
            continue
        title, indent = m.group(2), len(m.group(1))
        entries = found.setdefault(title, [])
        i += 1
        entry_indent = None
        while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
            line = lines[i]
            if line.strip():
                depth = len(line) - len(line.lstrip())
                if entry_indent is None:
                    entry_indent = depth
                if depth == entry_indent:
                    e = _ENTRY.match(line.strip())
                    entries.append(e.group(1) if e else line.strip())
            i += 1
    return found


def _own_doc(obj: object) -> str | None:
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else getattr(obj, "__doc__", None)
    if not doc or not doc.strip():
        return None
    if inspect.isclass(obj) and _generated_doc(obj, doc):
        return None
    return doc


def _generated_doc(cls: type, doc: str) -> bool:
    """Whether ``doc`` is the signature ``dataclass`` or ``NamedTuple`` writes for a bare class."""
    if dataclasses.is_dataclass(cls) or hasattr(cls, "_fields"):
        return re.fullmatch(rf"{re.escape(cls.__name__)}\(.*\)", doc.strip(), re.S) is not None
    return False


def _parameters(func) -> list[str]:
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return []
    return [p.name for p in sig.parameters.values() if p.name not in ("self", "cls")]


def _returns_value(func) -> bool:
    try:
        ann = inspect.signature(func).return_annotation
    except (TypeError, ValueError):
        return False
    return ann not in (None, "None", inspect.Signature.empty)


def function_problems(where: str, func, doc: str | None = None) -> list[str]:
    """What ``func``'s docstring lacks under the rule (an empty list: nothing).

    Args:
        where: the name to report problems under (``rnnlab.capacity.rank``).
        func: a function or method.
        doc: the docstring to check (default: ``func.__doc__``).

    Returns:
        One line per problem.
    """
    doc = func.__doc__ if doc is None else doc
    if not doc or not doc.strip():
        return [f"{where}: no docstring"]
    found = sections(doc)
    problems = []
    params = _parameters(func)
    documented = [name.lstrip("*") for title in ("Args", "Arguments", "Parameters", "Keyword Args",
                                                 "Other Parameters") for name in found.get(title, [])]
    missing = [p for p in params if p not in documented]
    if missing:
        problems.append(f"{where}: Args does not name {', '.join(missing)}")
    extra = [d for d in documented if d not in params]
    if extra:
        problems.append(f"{where}: Args names {', '.join(extra)}, which it does not take")
    if _returns_value(func) and not ({"Returns", "Yields"} & set(found)):
        problems.append(f"{where}: no Returns section")
    return problems


def class_problems(where: str, cls: type) -> list[str]:
    """What the docstrings of class ``cls`` and of its public members lack under the rule.

    Args:
        where: the name to report problems under.
        cls: the class.

    Returns:
        One line per problem.
    """
    doc = _own_doc(cls)
    if doc is None:
        return [f"{where}: no docstring"]
    problems = []
    found = sections(doc)
    attributes = found.get("Attributes", [])
    if dataclasses.is_dataclass(cls):
        fields = [f for f in dataclasses.fields(cls) if f.name not in attributes and not f.metadata.get("help")]
        if fields:
            problems.append(f"{where}: Attributes does not name {', '.join(f.name for f in fields)}")
    elif hasattr(cls, "_fields"):
        fields = [f for f in cls._fields if f not in attributes]
        if fields:
            problems.append(f"{where}: Attributes does not name {', '.join(fields)}")
    elif "__init__" in cls.__dict__:
        init = cls.__dict__["__init__"]
        init_doc = init.__doc__ if init.__doc__ and init.__doc__.strip() else doc
        problems += function_problems(f"{where}.__init__", init, init_doc)
    for name, member in vars(cls).items():
        if name.startswith("_") or (hasattr(cls, "_fields") and name in cls._fields):
            continue
        if isinstance(member, property):
            if not (member.fget and member.fget.__doc__ and member.fget.__doc__.strip()):
                problems.append(f"{where}.{name}: no docstring")
        elif isinstance(member, (staticmethod, classmethod)):
            problems += function_problems(f"{where}.{name}", member.__func__)
        elif inspect.isfunction(member):
            problems += function_problems(f"{where}.{name}", member)
    return problems


def problems(package: str) -> list[str]:
    """Every problem of ``package``'s exports under the rule.

    Args:
        package: an importable package with ``__all__``.

    Returns:
        One line per problem, prefixed with the exported name's dotted path.
    """
    found = []
    for e in exports(package):
        where = f"{package}.{e.name}"
        if e.kind == "module":
            if not (e.obj.__doc__ and e.obj.__doc__.strip()):
                found.append(f"{where}: no module docstring")
        elif e.kind == "constant":
            if not constant_docstring(importlib.import_module(e.module), e.name):
                found.append(f"{where}: no docstring (a string literal right after its assignment in {e.module})")
        elif e.kind == "class":
            found += class_problems(where, e.obj)
        else:
            found += function_problems(where, e.obj)
    return found


def all_exports() -> Iterator[Export]:
    """The exports of every package in :data:`PACKAGES`, in order.

    Yields:
        Each export.
    """
    for package in PACKAGES:
        yield from exports(package)


def main() -> int:
    """Print every problem of :data:`PACKAGES`' exports; exit status 1 if any.

    Returns:
        The exit status.
    """
    found = [p for package in PACKAGES for p in problems(package)]
    for line in found:
        print(line, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())

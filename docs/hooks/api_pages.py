"""MkDocs hook: the API reference pages, generated from ``__all__`` at every build.

One page per package of :data:`docstrings.PACKAGES` (``api/capacity.md``, ...): the package's
docstring, then every exported name, grouped by kind, each rendered by mkdocstrings from the
module that defines it (the packages load some names lazily, so a static reading of the
package alone would not find them). A dataclass whose fields carry ``help`` metadata
(``TrainConfig``) also gets a table of its fields.

Before any page is written, the docstring rule (``docs/api/docstrings.py``) is checked: an
exported name without a docstring, or a function whose ``Args:`` misses a parameter, stops
the build with the list of problems.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

_API = Path(__file__).resolve().parent.parent / "api"


def _load_rule():
    spec = importlib.util.spec_from_file_location("rnnlab_docs_docstrings", _API / "docstrings.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


rule = _load_rule()

_GROUPS = (("class", "Classes"), ("function", "Functions"), ("constant", "Constants"), ("module", "Modules"))


def _field_table(cls) -> list[str]:
    fields = [f for f in dataclasses.fields(cls) if f.metadata.get("help")]
    if not fields:
        return []
    lines = ["", f"Fields of `{cls.__name__}` (each also a TOML key and a command-line flag):", "",
             "| field | default | meaning |", "|---|---|---|"]
    for f in fields:
        default = "" if f.default is dataclasses.MISSING else f"`{f.default!r}`"
        text = f.metadata["help"].replace("|", "\\|")
        lines.append(f"| `{f.name}` | {default} | {text} |")
    return lines


def page(package: str) -> str:
    """The Markdown of ``package``'s API page.

    Args:
        package: one of :data:`docstrings.PACKAGES`.

    Returns:
        The page's Markdown, with mkdocstrings' ``:::`` blocks.
    """
    exports = rule.exports(package)
    lines = [f"# `{package}`", "", f"::: {package}", "    options:", "      members: false",
             "      show_root_heading: false", "      show_root_toc_entry: false", ""]
    lines += [f"`{package}` exports {len(exports)} names (its `__all__`). "
              f"Each is documented below by the module that defines it.", ""]
    for kind, title in _GROUPS:
        group = [e for e in exports if e.kind == kind]
        if not group:
            continue
        lines += [f"## {title}", ""]
        for e in group:
            lines += [f"::: {e.path}"]
            if kind == "module":
                lines += ["    options:", "      members: false"]
            lines.append("")
            if kind == "class" and dataclasses.is_dataclass(e.obj):
                lines += _field_table(e.obj) + [""]
    return "\n".join(lines)


def on_files(files: Files, config) -> Files:
    found = [p for package in rule.PACKAGES for p in rule.problems(package)]
    if found:
        raise PluginError("exported names whose docstrings break the rule (docs/api/docstrings.py):\n  "
                          + "\n  ".join(found))
    for package in rule.PACKAGES:
        short = package.rsplit(".", 1)[-1]
        files.append(File.generated(config, f"api/{short}.md", content=page(package)))
    return files

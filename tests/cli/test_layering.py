"""The command layer sits on top: no library module imports it, and only it sets process-wide state."""

import ast
import re
from pathlib import Path

import rnnlab

PACKAGE = Path(rnnlab.__file__).resolve().parent
CLI = PACKAGE / "cli"
GLOBAL_STATE = re.compile(r"matplotlib\.use|jax_enable_x64|MPLBACKEND|OPENBLAS_NUM_THREADS")


def _library_files():
    files = [p for p in PACKAGE.rglob("*.py") if CLI not in p.parents and p.name != "__main__.py"]
    assert len(files) > 30  # the whole library is scanned, not an empty glob
    return files


def _imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_no_library_module_imports_the_command_layer():
    offenders = [str(p.relative_to(PACKAGE)) for p in _library_files()
                 if any(m == "rnnlab.cli" or m.startswith("rnnlab.cli.") for m in _imported_modules(p))]
    assert offenders == []


def test_only_the_command_layer_sets_global_state():
    offenders = [str(p.relative_to(PACKAGE)) for p in _library_files() if GLOBAL_STATE.search(p.read_text())]
    assert offenders == []
    assert GLOBAL_STATE.search((CLI / "__init__.py").read_text())  # the CLI still chooses them

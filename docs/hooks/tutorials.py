"""MkDocs hook: every tutorial is executed at build time and becomes a Markdown page.

The tutorials are notebooks kept as text (``docs/tutorials/*.py``, jupytext's percent
format: ``# %%`` starts a code cell, ``# %% [markdown]`` a text cell). At every build each is
run top to bottom in a fresh Jupyter kernel (nbclient; two at a time, one per core), from the
repository's root, and written into the site as ``tutorials/NAME.md``: its text cells as they
are, each code cell as a Python block followed by what it printed and the value it showed,
figures as PNG files beside the page. MkDocs then renders these pages like every other one, so
strict mode checks their links too and their math goes through the site's own renderer.

A cell that raises stops the build: ``mkdocs build`` fails with the cell, the exception and
the tutorial's name. Nothing is cached, so a page cannot show what its code no longer does.

Run as a script (``python docs/hooks/tutorials.py NAME.py OUT.ipynb``) it executes one
tutorial into an executed notebook: the hook runs each tutorial this way, in its own process.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

#: Seconds one cell may run before the build gives up on it.
CELL_TIMEOUT = 300
#: Tutorials executed side by side (one kernel per core of the 2-core machines this is built on).
PARALLEL = 2

_ROOT = Path(__file__).resolve().parent.parent.parent
_HERE = _ROOT / "docs" / "tutorials"


def sources(folder: Path = _HERE) -> list[Path]:
    """The tutorial files of ``folder``: every ``*.py`` whose name does not start with ``_``.

    Args:
        folder: where the tutorials are.

    Returns:
        Their paths, sorted by name.
    """
    return sorted(p for p in folder.glob("*.py") if not p.name.startswith("_"))


def execute(source: Path, out: Path, cwd: Path = _ROOT) -> None:
    """Run the tutorial ``source`` in a fresh kernel and write the executed notebook to ``out``.

    Args:
        source: a jupytext percent-format ``.py`` file.
        out: where the executed ``.ipynb`` goes.
        cwd: the kernel's working folder (default: the repository's root).

    Raises:
        nbclient.exceptions.CellExecutionError: a cell raised; the message names the cell.
    """
    import jupytext
    import nbformat
    from nbclient import NotebookClient

    nb = jupytext.read(source)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(cwd)}})
    client.execute()
    nbformat.write(nb, out)


def _fence(text: str, lang: str) -> list[str]:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return [f"{ticks}{lang}", text.rstrip("\n"), ticks, ""]


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else value


def _merged_streams(outputs: list[dict]) -> list[dict]:
    """``outputs`` with each run of stream outputs of one stream (stdout, stderr) joined."""
    merged: list[dict] = []
    for output in outputs:
        if (output["output_type"] == "stream" and merged and merged[-1]["output_type"] == "stream"
                and merged[-1]["name"] == output["name"]):
            merged[-1] = dict(merged[-1], text=_text(merged[-1]["text"]) + _text(output["text"]))
        else:
            merged.append(dict(output, text=_text(output["text"])) if output["output_type"] == "stream" else output)
    return merged


def _overwrite(text: str) -> str:
    """``text`` as a terminal shows it: what follows a carriage return overwrites its line."""
    return "\n".join(line.rstrip("\r").rsplit("\r", 1)[-1] for line in text.split("\n"))


def to_markdown(nb: dict, name: str, source_path: str) -> tuple[str, dict[str, bytes]]:
    """The page of an executed notebook and the figures it shows.

    Args:
        nb: the executed notebook (``nbformat`` JSON as a dict).
        name: the page's name (``capacity``): figures go to ``NAME_files/``.
        source_path: the tutorial's path in the repository, named at the top of the page.

    Returns:
        The Markdown and ``{path relative to the page: PNG bytes}``.
    """
    lines: list[str] = []
    figures: dict[str, bytes] = {}
    note = (f'!!! note "This page is executed"\n    It is `{source_path}`, run from top to bottom when the '
            f"site was built; every output below is what the code printed then.\n")
    first_heading_done = False
    for cell in nb["cells"]:
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "markdown":
            lines += [src, ""]
            if not first_heading_done and src.lstrip().startswith("# "):
                lines += [note]
                first_heading_done = True
            continue
        if cell["cell_type"] != "code" or not src.strip():
            continue
        lines += _fence(src, "python")
        for output in _merged_streams(cell.get("outputs", [])):
            kind = output["output_type"]
            if kind == "stream":
                lines += _fence(_overwrite(output["text"]), "text")
            elif kind in ("execute_result", "display_data"):
                data = output["data"]
                if "image/png" in data:
                    path = f"{name}_files/figure-{len(figures) + 1}.png"
                    figures[path] = base64.b64decode(data["image/png"])
                    lines += [f"![figure {len(figures)} of {name}]({path})", ""]
                elif "text/markdown" in data:
                    text = data["text/markdown"]
                    lines += ["".join(text) if isinstance(text, list) else text, ""]
                elif "text/plain" in data:
                    text = data["text/plain"]
                    lines += _fence("".join(text) if isinstance(text, list) else text, "text")
    if not first_heading_done:
        lines = [note] + lines
    return "\n".join(lines), figures


def build_all(folder: Path = _HERE, log=print) -> dict[str, tuple[str, dict[str, bytes]]]:
    """Execute every tutorial of ``folder`` (:data:`PARALLEL` at a time) and convert each.

    Args:
        folder: where the tutorials are.
        log: called with one line per tutorial (its name and seconds).

    Returns:
        ``{name: (markdown, figures)}``.

    Raises:
        RuntimeError: a tutorial failed; the message holds its error output.
    """
    tutorials = sources(folder)
    with tempfile.TemporaryDirectory(prefix="rnnlab-tutorials-") as tmp:

        def run(source: Path) -> tuple[Path, Path, subprocess.CompletedProcess, float]:
            out = Path(tmp) / f"{source.stem}.ipynb"
            start = time.perf_counter()
            done = subprocess.run([sys.executable, str(Path(__file__).resolve()), str(source), str(out)],
                                  capture_output=True, text=True, cwd=_ROOT, env=os.environ.copy())
            return source, out, done, time.perf_counter() - start

        with ThreadPoolExecutor(PARALLEL) as pool:
            results = list(pool.map(run, tutorials))
        failed = [(s, d) for s, _, d, _ in results if d.returncode != 0]
        if failed:
            raise RuntimeError("\n\n".join(f"tutorial {s.relative_to(_ROOT)} failed:\n{d.stderr.strip()}"
                                           for s, d in failed))
        pages = {}
        for source, out, _, seconds in results:
            log(f"tutorial {source.name}: executed in {seconds:.0f} s")
            nb = json.loads(out.read_text())
            pages[source.stem] = to_markdown(nb, source.stem, str(source.relative_to(_ROOT)))
        return pages


def on_files(files, config):
    from mkdocs.exceptions import PluginError
    from mkdocs.structure.files import File
    import logging

    log = logging.getLogger("mkdocs.hooks.tutorials")
    try:
        pages = build_all(log=log.info)
    except RuntimeError as exc:
        raise PluginError(str(exc)) from None
    for name, (markdown, figures) in pages.items():
        files.append(File.generated(config, f"tutorials/{name}.md", content=markdown))
        for path, data in figures.items():
            files.append(File.generated(config, f"tutorials/{path}", content=data))
    return files


if __name__ == "__main__":
    from nbclient.exceptions import CellExecutionError

    try:
        execute(Path(sys.argv[1]), Path(sys.argv[2]))
    except CellExecutionError as exc:
        print(re.sub(r"\x1b\[[0-9;]*m", "", str(exc)), file=sys.stderr)  # without the traceback's colours
        raise SystemExit(1)

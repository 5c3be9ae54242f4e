"""The page a tutorial becomes (docs/hooks/tutorials.py): its executed notebook turned into Markdown.
Executing a tutorial needs the docs tools and takes a kernel's start; `make docs` does that (a
failing cell fails it). Here only the conversion, on a made-up executed notebook."""

from __future__ import annotations

import base64
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("rnnlab_docs_tutorials_under_test", ROOT / "docs" / "hooks" / "tutorials.py")
hook = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = hook
_spec.loader.exec_module(hook)

PNG = b"\x89PNG\r\n\x1a\n-not-a-real-image"


def _notebook():
    md = {"cell_type": "markdown", "source": "# Title\n\nIntro.", "metadata": {}}
    code = {"cell_type": "code", "source": ["x = 1\n", "print(x)"], "metadata": {}, "outputs": [
        {"output_type": "stream", "name": "stdout", "text": ["1\n", "two"]},
        {"output_type": "stream", "name": "stdout", "text": " parts\n"},
        {"output_type": "stream", "name": "stderr", "text": "\r  0%| 0/1\r100%| 1/1\ndone\n"},
        {"output_type": "display_data", "data": {"image/png": base64.b64encode(PNG).decode(),
                                                 "text/plain": "<Figure>"}, "metadata": {}},
        {"output_type": "execute_result", "data": {"text/markdown": "| a |\n|---|\n| 1 |",
                                                   "text/plain": "<Markdown>"}, "metadata": {}},
        {"output_type": "execute_result", "data": {"text/plain": "```tricky```"}, "metadata": {}},
    ]}
    empty = {"cell_type": "code", "source": "", "metadata": {}, "outputs": []}
    return {"cells": [md, code, empty], "metadata": {}}


def test_a_notebook_becomes_markdown_with_its_outputs_and_figures():
    page, figures = hook.to_markdown(_notebook(), "demo", "docs/tutorials/demo.py")
    assert figures == {"demo_files/figure-1.png": PNG}
    assert "![figure 1 of demo](demo_files/figure-1.png)" in page
    # The title first, then the note saying the page was executed, naming its source.
    assert page.index("# Title") < page.index('!!! note "This page is executed"') < page.index("```python")
    assert "`docs/tutorials/demo.py`" in page
    assert "```python\nx = 1\nprint(x)\n```" in page
    # Pieces of one stream are one block; a carriage return overwrites its line, as on a terminal.
    assert "```text\n1\ntwo parts\n```" in page
    assert "```text\n100%| 1/1\ndone\n```" in page and "0/1" not in page
    # Markdown output is the page's own Markdown (a table); text with backticks gets a longer fence.
    assert "\n| a |\n|---|\n| 1 |\n" in page
    assert "````text\n```tricky```\n````" in page


def test_the_tutorials_are_the_python_files_not_starting_with_an_underscore(tmp_path):
    for name in ("b.py", "a.py", "_helper.py", "notes.md"):
        (tmp_path / name).write_text("")
    assert [p.name for p in hook.sources(tmp_path)] == ["a.py", "b.py"]
    assert {p.name for p in hook.sources()} == {"capacity.py", "dynamics.py", "reproduce.py", "train.py"}

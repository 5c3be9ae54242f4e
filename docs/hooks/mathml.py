"""MkDocs hook: math rendered at build time, as MathML, so that no page loads a script for it.

``pymdownx.arithmatex`` (generic mode) finds ``$...$`` and ``$$...$$`` outside code and wraps
them as ``<span class="arithmatex">\\(...\\)</span>`` / ``<div class="arithmatex">\\[...\\]</div>``;
this hook replaces each wrapper by the MathML of its LaTeX (latex2mathml), which browsers
draw natively. A formula latex2mathml cannot read stops the build, naming the page.
"""

from __future__ import annotations

import html
import re

from latex2mathml.converter import convert
from mkdocs.exceptions import PluginError

_INLINE = re.compile(r'<span class="arithmatex">\\\((.*?)\\\)</span>', re.S)
_BLOCK = re.compile(r'<div class="arithmatex">\\\[(.*?)\\\]</div>', re.S)


def render(content: str, where: str = "page") -> str:
    """``content`` (HTML) with every arithmatex wrapper replaced by MathML.

    Args:
        content: a page's HTML.
        where: the page, named in an error.

    Returns:
        The HTML with MathML in place of the wrappers.

    Raises:
        PluginError: a formula could not be converted.
    """

    def sub(display: str):
        def replace(match: re.Match) -> str:
            latex = html.unescape(match.group(1)).strip()
            try:
                return convert(latex, display=display)
            except Exception as exc:  # latex2mathml raises several kinds for bad input
                raise PluginError(f"{where}: cannot render the formula {latex!r}: {exc}") from None
        return replace

    return _INLINE.sub(sub("inline"), _BLOCK.sub(sub("block"), content))


def on_page_content(content: str, page, config, files) -> str:
    return render(content, page.file.src_uri)

"""Griffe extension: the Sphinx roles of rnnlab's docstrings as links of the site.

rnnlab's docstrings name other objects the Sphinx way (``:func:`~rnnlab.capacity.rank```,
``:class:`TrainResult```), which Markdown would print as they are. Each role becomes the
object's name in code, linked where the site documents the object: an optional cross-reference
of mkdocs-autorefs, which stays plain text (and warns of nothing) when the target has no page.
A name without dots is looked up in the scope of the docstring's module.
"""

from __future__ import annotations

import re

import griffe

_ROLE = re.compile(r":(?:func|class|meth|mod|data|attr|exc|obj):`(~?)([^`<>]+?)(?:\(\))?`")


def _qualify(target: str, obj: griffe.Object) -> str:
    if "." in target:
        return target
    module = obj if obj.is_module else obj.module
    return f"{module.path}.{target}"


def rewrite(text: str, obj: griffe.Object) -> str:
    """``text`` with every Sphinx role turned into an optional cross-reference.

    Args:
        text: a docstring.
        obj: the object the docstring belongs to (for names without dots).

    Returns:
        The docstring with ``<autoref>`` tags in place of the roles.
    """

    def replace(match: re.Match) -> str:
        tilde, target = match.groups()
        shown = target.rsplit(".", 1)[-1] if tilde else target
        return f'<autoref identifier="{_qualify(target, obj)}" optional><code>{shown}</code></autoref>'

    return _ROLE.sub(replace, text)


class SphinxRoles(griffe.Extension):
    """Rewrites the roles of every docstring griffe loads (see the module's docstring)."""

    def on_object(self, *, obj: griffe.Object, **kwargs) -> None:
        """Rewrite ``obj``'s docstring in place.

        Args:
            obj: the object griffe has just loaded.
            **kwargs: the other arguments of the event, unused.
        """
        if obj.docstring is not None:
            obj.docstring.value = rewrite(obj.docstring.value, obj)

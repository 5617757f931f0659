"""The one signal the language layer raises: a name is needed but not defined.

It lives here, at the bottom of the layers, because rendering author text
(markup.py) raises it; the engine re-exports it from engine.signals.
"""

from __future__ import annotations


class MissingVariable(Exception):  # a control-flow signal, not an error
    """A name the code needs is not defined yet; the evaluator seeks it."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

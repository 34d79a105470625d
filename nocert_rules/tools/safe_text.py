"""Rich text whose content can never drive the terminal (ESC, CR, bidi overrides escaped).

Every human-readable output of the CLI and the tools builds its lines with :class:`SafeText`
instead of ``rich.text.Text``: text from a case file, a request or a log (a ``request_id`` with
``\\x1b[2J``, a CR that overwrites the line) is shown as ``\\x1b`` / ``\\x0d``
(:func:`nocert_rules.privacy.printable`). Rich markup is never parsed from it either.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from nocert_rules.privacy import printable

__all__ = ["SafeText"]


class SafeText(Text):
    """``rich.text.Text`` with control characters escaped in the text and in every append."""

    def __init__(self, text: str = "", *args: Any, **kwargs: Any) -> None:
        super().__init__(printable(text), *args, **kwargs)

    def append(self, text: str | Text, style: Any = None) -> SafeText:
        if isinstance(text, str):
            text = printable(text)
        super().append(text, style)
        return self

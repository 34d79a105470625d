"""Codes the list does not know: the manifest decides what they get, and says so.

``unknown_service_item`` and ``unknown_certificate`` (manifest; ``abolish`` or ``error``, default
``abolish``). ``abolish``: the certificate is not on the list, so it may not be requested
(the ruleset's rule for unlisted certificates decides), and the decision warns, naming the
nearest known codes (``difflib``) — a mistyped code or a host's mapping bug stays visible.
``error``: a :class:`~nocert_rules.errors.RequestError` naming the field and the nearest codes.
"""

from __future__ import annotations

import contextlib
import difflib
from collections import OrderedDict
from typing import TYPE_CHECKING

from nocert_rules.errors import RequestError
from nocert_rules.privacy import mask_text
from nocert_rules.worktime.wording import say

if TYPE_CHECKING:
    from nocert_rules.models import DecisionRequest
    from nocert_rules.policy.ruleset import Ruleset

__all__ = ["UnknownCodes"]

_SHOWN = 64
"""At most this many characters of an unknown code are echoed."""

_MEMO = 512
"""Answers kept per engine, by pair of codes (the oldest goes when full, so a full memo stays
the same size: tests/test_stress.py); enough for the few hundred unknown pairs of a day's mix,
each computed once; a dry-run over a case file keeps more."""


Answer = tuple[bool, tuple[str, ...]]
"""An unknown pair's answer: refused (the field and the problem of the ``RequestError``) or the
warnings of its decision."""


def _show(code: str) -> str:
    text = mask_text(code, keep_credit_codes=True)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


class UnknownCodes:
    """What an unknown pair of codes gets (warnings naming the nearest known codes, or an error),
    computed once per pair and kept, bounded, per engine."""

    def __init__(self, ruleset: Ruleset, memo: int = _MEMO) -> None:
        """``memo``: how many pairs' answers to keep (a dry-run over a case file keeps more)."""
        self.ruleset = ruleset
        items: dict[str, set[str]] = {}
        for row in ruleset.rows:
            items.setdefault(row.service_item_code, set()).update((row.certificate_id, row.certificate_name))
        self._items = sorted(items)
        self._folded = {code.casefold(): code for code in self._items}
        self._certificates = {item: sorted(certs) for item, certs in items.items()}
        self._size = max(1, memo)
        self._memo: OrderedDict[tuple[str, str], Answer] = OrderedDict()

    def nearest_items(self, code: str) -> tuple[str, ...]:
        """The known service item codes nearest ``code``: the same code in another case first."""
        same_case = self._folded.get(code.casefold())
        close = difflib.get_close_matches(code, self._items, n=3, cutoff=0.6) if len(code) <= _SHOWN else []
        return tuple(dict.fromkeys([same_case, *close] if same_case else close))

    def nearest_certificates(self, item: str, certificate: str) -> tuple[str, ...]:
        """The certificate ids and names of ``item`` nearest ``certificate``."""
        known = self._certificates.get(item, [])
        folded = [c for c in known if c.casefold() == certificate.casefold()]
        close = difflib.get_close_matches(certificate, known, n=3, cutoff=0.6) if len(certificate) <= _SHOWN else []
        return tuple(dict.fromkeys([*folded, *close]))

    def check(self, req: DecisionRequest) -> list[str]:
        """The warnings for a request whose certificate has no row (or RequestError, per the
        manifest); computed once per pair of codes (``difflib`` off the decision's path)."""
        key = (req.service_item, req.certificate)
        memo = self._memo
        answer = memo.get(key)
        if answer is None:
            answer = self._answer(*key)
            memo[key] = answer
            if len(memo) > self._size:
                with contextlib.suppress(KeyError):  # another thread took it first
                    memo.popitem(last=False)
        refused, texts = answer
        if refused:
            raise RequestError([(texts[0], texts[1])])
        return list(texts)

    def _answer(self, service_item: str, certificate: str) -> Answer:
        """The warning in the ruleset's words (manifest ``wording.warnings``); the error (a
        request's problem, the mechanism's words) names the same nearest codes."""
        m, words = self.ruleset.manifest, self.ruleset.manifest.wording.warnings
        item = _show(service_item)
        if service_item not in self.ruleset.service_items:
            near = self.nearest_items(service_item)
            hint = say(words.nearest_service_items, codes=", ".join(near)) if near else ""
            if m.unknown_service_item == "error":
                return True, ("service_item", f"事项编码不在清单中 / unknown service item {item}{hint}")
            return False, (say(words.unknown_service_item, service_item=item, nearest=hint),)
        near = self.nearest_certificates(service_item, certificate)
        hint = say(words.nearest_certificates, codes=", ".join(near)) if near else ""
        if m.unknown_certificate == "error":
            return True, ("certificate", f"证明不在该事项清单内 / certificate {_show(certificate)} is not "
                                         f"listed for service item {item}{hint}")
        return False, (say(words.unknown_certificate, certificate=_show(certificate), service_item=item, nearest=hint),)

"""Codes the list does not know: the manifest decides what they get, and says so.

``unknown_service_item`` and ``unknown_certificate`` (manifest; ``abolish`` or ``error``, default
``abolish``). ``abolish``: the certificate is not on the list, so it may not be requested
(the ruleset's rule for unlisted certificates decides), and the decision warns, naming the
nearest known codes (``difflib``) — a mistyped code or a host's mapping bug stays visible.
``error``: a :class:`~nocert_rules.errors.RequestError` naming the field and the nearest codes.
"""

from __future__ import annotations

import difflib
from functools import lru_cache
from typing import TYPE_CHECKING

from nocert_rules.errors import RequestError
from nocert_rules.privacy import mask_text

if TYPE_CHECKING:
    from nocert_rules.models import DecisionRequest
    from nocert_rules.policy.ruleset import Ruleset

__all__ = ["UnknownCodes"]

_SHOWN = 64
"""At most this many characters of an unknown code are echoed."""

_MEMO = 128
"""Answers kept per engine (nearest codes; warnings by pair of codes): small, so a soak of random
codes stays flat (tests/test_stress.py); a dry-run over a case file keeps more."""


def _show(code: str) -> str:
    text = mask_text(code, keep_credit_codes=True)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


class UnknownCodes:
    """The nearest known codes for an unknown one, memoised per ruleset."""

    def __init__(self, ruleset: Ruleset, memo: int = _MEMO) -> None:
        """``memo``: how many nearest-code answers to keep (a dry-run over a case file keeps more)."""
        self.ruleset = ruleset
        items: dict[str, set[str]] = {}
        for row in ruleset.rows:
            items.setdefault(row.service_item_code, set()).update((row.certificate_id, row.certificate_name))
        self._items = sorted(items)
        self._folded = {code.casefold(): code for code in self._items}
        self._certificates = {item: sorted(certs) for item, certs in items.items()}
        self.nearest_items = lru_cache(maxsize=memo)(self._nearest_items)
        self.nearest_certificates = lru_cache(maxsize=memo)(self._nearest_certificates)
        self._warnings = lru_cache(maxsize=memo)(self._warnings_for)

    def _nearest_items(self, code: str) -> tuple[str, ...]:
        same_case = self._folded.get(code.casefold())
        close = difflib.get_close_matches(code, self._items, n=3, cutoff=0.6) if len(code) <= _SHOWN else []
        return tuple(dict.fromkeys([same_case, *close] if same_case else close))

    def _nearest_certificates(self, item: str, certificate: str) -> tuple[str, ...]:
        known = self._certificates.get(item, [])
        folded = [c for c in known if c.casefold() == certificate.casefold()]
        close = difflib.get_close_matches(certificate, known, n=3, cutoff=0.6) if len(certificate) <= _SHOWN else []
        return tuple(dict.fromkeys([*folded, *close]))

    def check(self, req: DecisionRequest) -> list[str]:
        """The warnings for a request whose certificate has no row (or RequestError, per the
        manifest); computed once per pair of codes (``difflib`` off the decision's path)."""
        return list(self._warnings(req.service_item, req.certificate))

    def _warnings_for(self, service_item: str, certificate: str) -> tuple[str, ...]:
        m = self.ruleset.manifest
        if service_item not in self.ruleset.service_items:
            near = self.nearest_items(service_item)
            hint = f"；最接近的已知编码 / nearest known: {', '.join(near)}" if near else ""
            if m.unknown_service_item == "error":
                raise RequestError([("service_item", f"事项编码不在清单中 / unknown service item {_show(service_item)}{hint}")])
            return (
                f"事项编码 {_show(service_item)} 不在清单中，请核对编码{hint} / service item "
                f"{_show(service_item)} has no row in the list: check the code (the certificate is "
                "treated as not listed)",
            )
        near = self.nearest_certificates(service_item, certificate)
        hint = f"；最接近的 / nearest: {', '.join(near)}" if near else ""
        if m.unknown_certificate == "error":
            raise RequestError([("certificate", f"证明不在该事项清单内 / certificate {_show(certificate)} is not "
                                                f"listed for service item {_show(service_item)}{hint}")])
        return (
            f"证明 {_show(certificate)} 不在事项 {_show(service_item)} 的清单内（按不在清单处理）{hint} / "
            f"certificate {_show(certificate)} is not listed for service item {_show(service_item)} "
            "(treated as not listed): check the id",
        )

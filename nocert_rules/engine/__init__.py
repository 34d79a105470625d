"""Layer 4: the decision engine (``core.Engine``) and its rule backends."""

from typing import Any


def __getattr__(name: str) -> Any:
    # durable_rules loads only when an engine on it is built (never on the compiled backend).
    if name in {"Engine", "facts_for"}:
        from nocert_rules.engine import core

        return getattr(core, name)
    raise AttributeError(name)

"""An exact cache of rule firings, for dry-runs over many cases.

    cached = CachedEngine(Engine(ruleset), maxsize=65_536)
    cached.decide(request)          # == engine.decide(request), for every request

Which rules fire is a function of the facts alone (``facts_for``: request flags, the list
row, the applicant's credit, derived facts such as ``applicant.on_blacklist`` at
``requested_at``) and of the ruleset. So the cache key is the ruleset's sha256 plus the
facts the rules read (``conditions.facts_named`` over every rule; a fact no rule names cannot
change what fires), each with its value or its absence (an unlisted certificate has no
``row.*`` facts). The value is the list of fired rule ids, never a Decision: a Decision
carries per-request data (request id, masked ID number, ``requested_at``, deadlines,
validity warnings), so it is rebuilt for every request by ``Engine.decide_with_fired``,
the same code ``Engine.decide`` ends with.

What it saves is the durable_rules assertion (about half of a decision, see BENCHMARKS.md);
validation, facts and the Decision are still computed per request. It pays on dry-runs,
where many cases share their facts; a host deciding one request at a time should use the
plain ``Engine``. Thread-safe (one lock around the LRU bookkeeping; misses run the engine
outside it).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, NamedTuple

from nocert_rules.engine.core import Engine, facts_for
from nocert_rules.models import Decision, DecisionRequest, parse_request
from nocert_rules.policy import conditions

Key = tuple[str, frozenset[tuple[str, Any]]]


class CacheInfo(NamedTuple):
    hits: int
    misses: int
    maxsize: int | None
    currsize: int


class CachedEngine:
    """``Engine`` with an LRU cache of ``fire`` results keyed on the facts the rules read.

    ``maxsize`` bounds the number of distinct fact combinations kept (``None``: unbounded;
    ``0``: no caching). An entry is a short tuple of rule ids plus its key, a few hundred bytes.
    """

    def __init__(self, engine: Engine, maxsize: int | None = 65_536) -> None:
        if maxsize is not None and maxsize < 0:
            raise ValueError("maxsize must be >= 0 or None")
        self.engine = engine
        self.ruleset = engine.ruleset
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self._sha256 = engine.ruleset.sha256
        read: set[str] = set()
        for rule in engine.ruleset.rules:
            read |= conditions.facts_named(rule.when)
        self._read = frozenset(read)
        self._entries: OrderedDict[Key, tuple[str, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def key(self, facts: Mapping[str, Any]) -> Key:
        """The cache key of ``facts``: ruleset hash and every present fact a rule reads."""
        read = self._read
        return (self._sha256, frozenset((k, v) for k, v in facts.items() if k in read))

    def fire(self, facts: Mapping[str, Any]) -> list[str]:
        """``Engine.fire(facts)``, from the cache when these facts were seen before."""
        if self.maxsize == 0:
            with self._lock:
                self.misses += 1
            return self.engine.fire(dict(facts))
        key = self.key(facts)
        with self._lock:
            fired = self._entries.get(key)
            if fired is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return list(fired)
            self.misses += 1
        result = self.engine.fire(dict(facts))
        with self._lock:
            self._entries[key] = tuple(result)
            self._entries.move_to_end(key)
            if self.maxsize is not None and len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return result

    def decide(self, request: DecisionRequest | dict[str, Any], as_of: date | datetime | None = None) -> Decision:
        """Exactly ``Engine.decide(request, as_of)``; the rule firing may come from the cache."""
        req = parse_request(request)
        row = self.engine.find_row(req, as_of)
        facts = facts_for(self.ruleset, req, row, as_of, blacklist=self.engine.blacklist)
        return self.engine.decide_with_fired(req, row, self.fire(facts), as_of=as_of, facts=facts, fire=self.fire)

    def cache_info(self) -> CacheInfo:
        with self._lock:
            return CacheInfo(self.hits, self.misses, self.maxsize, len(self._entries))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = 0
            self.misses = 0

    def close(self) -> None:
        """Close the wrapped engine (it is unusable afterwards)."""
        self.clear()
        self.engine.close()

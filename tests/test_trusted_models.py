"""``models.trusted`` builds what validation builds: the engine's Decisions rely on it."""

from __future__ import annotations

import copy
import pickle
from datetime import date, datetime

from nocert_rules.enums import CreditLevel
from nocert_rules.models import SHANGHAI, Citation, PostCheckPlan, RulesetStamp, trusted


def test_trusted_equals_the_validated_model_in_every_way_a_host_can_see() -> None:
    citation = Citation(clause_id="c", source_id="s", source_title="t", text="x")
    cases = [
        (RulesetStamp, {"name": "zibo", "version": "1", "sha256": "ab", "backend": "compiled",
                        "effective_date": date(2021, 9, 1), "row_version": None}),
        (PostCheckPlan, {"credit": CreditLevel.NORMAL, "waived": False, "within_working_days": 5,
                         "description": "核查", "due_at": datetime(2021, 9, 8, 17, tzinfo=SHANGHAI),
                         "citation": citation}),
    ]
    for cls, values in cases:
        built = trusted(cls, set(cls.model_fields), dict(values))
        validated = cls(**values)
        assert type(built) is cls
        assert built == validated and validated == built
        assert built.model_dump_json() == validated.model_dump_json()
        assert built.model_dump(exclude_unset=True) == validated.model_dump(exclude_unset=True)
        assert built.model_fields_set == validated.model_fields_set
        assert repr(built) == repr(validated) and hash(built) == hash(validated)
        assert pickle.loads(pickle.dumps(built)) == validated
        assert copy.deepcopy(built) == validated
        changed = built.model_copy(update={"description" if cls is PostCheckPlan else "name": "other"})
        assert changed != validated and built == validated  # the copy is new, the original unchanged

"""The decide path's shortcuts in ``models`` give what the long way gives: ``trusted`` builds
what validation builds; the summary reads an ID number as ``privacy.normalise`` does."""

from __future__ import annotations

import copy
import pickle
import string
from datetime import date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from nocert_rules.enums import CreditLevel
from nocert_rules.models import SHANGHAI, Citation, PostCheckPlan, RulesetStamp, trusted
from nocert_rules.privacy import normalise


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


@settings(max_examples=500, deadline=None, database=None)
@given(st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=40),
    st.text(min_size=1, max_size=40),
    st.from_regex(r"[0-9 \-\uff10-\uff19\u200b]{15,20}[Xx]?", fullmatch=True),
))
def test_the_summary_reads_the_id_number_as_privacy_normalise_does(id_number: str) -> None:
    """``Applicant.summary`` takes ASCII letters and digits as already normal: that is what
    ``privacy.normalise`` gives them too; anything else (spaces, full-width digits, zero-width
    characters) goes through ``normalise``."""
    from nocert_rules.models import _normalised_id

    assert _normalised_id(id_number) == (normalise(id_number) or id_number)


class _Moment(datetime):
    """A datetime subclass, as some hosts' libraries hand them over."""


@settings(max_examples=300, deadline=None, database=None)
@given(st.datetimes(), st.sampled_from([0, 1]), st.booleans())
def test_a_naive_time_becomes_shanghai_time_as_replace_makes_it(naive: datetime, fold: int, subclass: bool) -> None:
    """``as_shanghai`` builds a plain naive datetime's Shanghai time with the constructor; it is
    exactly ``replace(tzinfo=SHANGHAI)``, type and fold included (a subclass or ``fold=1`` takes
    ``replace`` itself)."""
    from nocert_rules.models import as_shanghai

    value = naive.replace(fold=fold)
    if subclass:
        value = _Moment(*value.timetuple()[:6], value.microsecond, fold=fold)
    got, expected = as_shanghai(value), value.replace(tzinfo=SHANGHAI)
    assert got == expected and type(got) is type(expected)
    assert (got.fold, got.tzinfo, got.isoformat()) == (expected.fold, expected.tzinfo, expected.isoformat())

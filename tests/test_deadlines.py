"""Deadlines of the plan (附件2 第七条, 第十一条; 附件3 第五条, 第九条; 附件4 第十条; 三(三)2-3).

Expected dates follow the State Council notices (2025: 10月1日至8日放假，9月28日（周日）、
10月11日（周六）上班; 2026: 2月15日至23日放假，2月14日、2月28日（周六）上班; 10月1日至7日放假，
10月10日（周六）上班) counted by hand, start day excluded (民法典 第二百零一条).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import ZIBO
from pydantic import ValidationError

from nocert_rules.enums import RecordKind
from nocert_rules.errors import CalendarError, RequestError
from nocert_rules.policy.ruleset import load_ruleset
from nocert_rules.worktime.calendar import (
    SHANGHAI,
    CalendarOverrides,
    WorkCalendar,
    holidays_known_years,
)
from nocert_rules.worktime.deadlines import (
    ApprovalClock,
    Deadline,
    DeadlinePolicy,
    EscalationPolicy,
    ExtensionLimitError,
    Office,
    StatutoryLimit,
    VerificationOutcome,
    WorkingLimit,
    adjustment_due,
    approval_clock,
    complaint_due,
    next_publication_date,
    post_check_due,
    verification_due,
    verification_status,
)
from nocert_rules.worktime.wording import Wording

CAL = WorkCalendar()
POLICY = load_ruleset(ZIBO).deadline_policy
"""Zibo's figures and clause ids, from rulesets/zibo/manifest.yaml (the library has none of its own)."""


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


# -- verification (附件2 第七条) -----------------------------------------------------------------


def test_paper_archive_over_national_day() -> None:
    d = verification_due(datetime(2025, 9, 30, 10, 0), RecordKind.PAPER, CAL, policy=POLICY)
    assert d.due_at == sh(2025, 10, 9, 17, 0)
    assert d.due_at.utcoffset() == timedelta(hours=8)
    assert d.clause == "附件2 第七条"
    assert d.rule.index("1 个工作日") < d.rule.index("1 working day")  # Chinese first
    assert d.warnings == []


def test_incomplete_archive_requested_on_saturday_counts_the_tiaoxiu_sunday() -> None:
    d = verification_due(date(2025, 9, 27), RecordKind.INCOMPLETE_ARCHIVE, CAL, policy=POLICY)
    assert d.due_at == sh(2025, 9, 29, 17, 0)
    assert "2 个工作日" in d.rule and "2 working days" in d.rule


def test_electronic_friday_afternoon_is_due_next_working_day_0920() -> None:
    d = verification_due(datetime(2025, 6, 13, 16, 50), RecordKind.ELECTRONIC, CAL, policy=POLICY)
    assert d.due_at == sh(2025, 6, 16, 9, 20)
    assert d.rule.startswith("已有数据库") and "30 个工作分钟" in d.rule
    assert "30 working minutes" in d.rule
    # Friday before the 2025 National Day 调休 Sunday: due on that Sunday
    d = verification_due(datetime(2025, 9, 26, 16, 50), "electronic", CAL, policy=POLICY)
    assert d.due_at == sh(2025, 9, 28, 9, 20)


def test_records_as_string_value_and_unknown_kind() -> None:
    a = verification_due(datetime(2025, 9, 30, 10), "paper", CAL, policy=POLICY)
    b = verification_due(datetime(2025, 9, 30, 10), RecordKind.PAPER, CAL, policy=POLICY)
    assert a == b
    with pytest.raises(CalendarError, match="electronic"):
        verification_due(datetime(2025, 9, 30, 10), "microfilm", CAL, policy=POLICY)


def test_naive_aware_date_and_datetime_starts_agree() -> None:
    expected = sh(2025, 10, 9, 17, 0)
    for start in (
        datetime(2025, 9, 30, 10, 0),
        sh(2025, 9, 30, 10, 0),
        datetime(2025, 9, 30, 2, 0, tzinfo=UTC),
        date(2025, 9, 30),
    ):
        assert verification_due(start, RecordKind.PAPER, CAL, policy=POLICY).due_at == expected, start
    # 2025-09-30 17:00 UTC is already 10-01 01:00 in Shanghai: day 1 is 10-09, day 2 is 10-10
    late = verification_due(datetime(2025, 9, 30, 17, 0, tzinfo=UTC), "incomplete_archive", CAL, policy=POLICY)
    assert late.due_at == sh(2025, 10, 10, 17, 0)
    # minutes from an aware start equal minutes from the same naive Shanghai moment
    assert verification_due(
        datetime(2025, 6, 13, 8, 50, tzinfo=UTC), "electronic", CAL
    , policy=POLICY).due_at == sh(2025, 6, 16, 9, 20)


def test_statutory_limit_replaces_the_record_limit() -> None:
    limit = StatutoryLimit(working_days=3, basis="《不动产登记暂行条例》第二十条")
    d = verification_due(datetime(2025, 9, 30, 10), RecordKind.ELECTRONIC, CAL, limit=limit, policy=POLICY)
    # 10-09 (1), 10-10 (2), 10-11 Saturday 调休 (3)
    assert d.due_at == sh(2025, 10, 11, 17, 0)
    assert d.clause == "三(三)3"
    assert "不动产登记暂行条例" in d.rule
    minutes = StatutoryLimit(working_minutes=60, basis="某法 第一条")
    d = verification_due(datetime(2025, 6, 16, 11, 30), RecordKind.PAPER, CAL, limit=minutes, policy=POLICY)
    assert d.due_at == sh(2025, 6, 16, 13, 30)  # 30 minutes before lunch, 30 after


def test_statutory_limit_needs_exactly_one_amount() -> None:
    with pytest.raises(ValidationError):
        StatutoryLimit(basis="x")
    with pytest.raises(ValidationError):
        StatutoryLimit(working_days=1, working_minutes=30, basis="x")
    with pytest.raises(ValidationError):
        StatutoryLimit(working_days=0, basis="x")
    with pytest.raises(ValidationError):
        StatutoryLimit(working_days=1, basis="")


def test_deadline_is_frozen() -> None:
    d = verification_due(datetime(2025, 9, 30, 10), "paper", CAL, policy=POLICY)
    assert isinstance(d, Deadline)
    with pytest.raises(ValidationError):
        d.clause = "x"  # type: ignore[misc]


# -- overdue (附件2 第十一条) --------------------------------------------------------------------


def test_verification_status_on_time_and_overdue() -> None:
    req = datetime(2025, 9, 30, 10, 0)
    on_time = verification_status(req, "paper", sh(2025, 10, 9, 17, 0), CAL, policy=POLICY)
    assert on_time.status is VerificationOutcome.ON_TIME
    assert on_time.escalation is None
    assert on_time.due_at == sh(2025, 10, 9, 17, 0)

    late = verification_status(req, "paper", datetime(2025, 10, 9, 17, 0, 1), CAL, policy=POLICY)
    assert late.status is VerificationOutcome.OVERDUE
    assert late.escalation is not None
    assert "市联席会议办公室" in late.escalation.to
    assert late.escalation.clause == "附件2 第十一条"
    assert late.escalation.overdue_since == sh(2025, 10, 9, 17, 0)
    assert late.deadline.clause == "附件2 第七条"

    # during the holiday the paper reply is not yet late
    assert verification_status(req, "paper", date(2025, 10, 5), CAL, policy=POLICY).status == "on_time"


def test_the_policy_sets_figures_clauses_and_office() -> None:
    """Another district's figures, clause ids and office: nothing of Zibo's comes out."""
    other = POLICY.model_copy(
        update={
            "verification": {**POLICY.verification, RecordKind.PAPER: WorkingLimit(working_days=3)},
            "verification_clause": "第十条",
            "escalation": EscalationPolicy(
                office=Office(name="区营商环境办", name_en="the district office"), clause="第十二条",
                action="证明需求单位将逾期情况报区营商环境办 / reported to the district office",
            ),
            "adjustment_clause": "第二十条",
            "adjustment_office": Office(name="区司法局"),
        }
    )
    late = verification_status(datetime(2025, 6, 16, 10), "paper", datetime(2025, 6, 20, 10), CAL, policy=other)
    assert late.due_at == sh(2025, 6, 19, 17, 0) and late.deadline.clause == "第十条"
    assert late.escalation is not None and late.escalation.clause == "第十二条"
    assert late.escalation.to == "区营商环境办 / the district office" and "区营商环境办" in late.escalation.action
    adj = adjustment_due(date(2025, 6, 16), CAL, policy=other)
    assert adj.clause == "第二十条" and "区司法局" in adj.rule
    for text in (late.model_dump_json(), adj.model_dump_json()):
        assert "附件" not in text and "联席会议" not in text
    no_office = Wording(zh="{days} 个工作日内提出书面申请", en="within {days} working days")
    silent = DeadlinePolicy.model_validate({
        **dict(other), "escalation": None, "adjustment_office": None,
        "wording": other.wording.model_copy(update={"adjustment_no_office": no_office}),
    })
    late = verification_status(datetime(2025, 6, 16, 10), "paper", datetime(2025, 6, 20, 10), CAL, policy=silent)
    assert late.escalation is not None and late.escalation.to is None and late.escalation.clause is None
    assert adjustment_due(date(2025, 6, 16), CAL, policy=silent).rule == "7 个工作日内提出书面申请 / within 7 working days"


def test_a_policy_without_an_adjustment_office_words_the_rule_without_one() -> None:
    assert POLICY.wording.adjustment_no_office is None
    with pytest.raises(ValidationError, match=r"adjustment_no_office is required"):
        DeadlinePolicy.model_validate({**dict(POLICY), "adjustment_office": None})


def test_iso_text_starts_and_refused_types() -> None:
    """Deadlines accept what decide() accepts: ISO text (naive = Asia/Shanghai); not numbers."""
    text = verification_due("2025-09-30T10:00", "paper", CAL, policy=POLICY)
    assert text == verification_due(datetime(2025, 9, 30, 10), "paper", CAL, policy=POLICY)
    assert complaint_due("2026-09-30", CAL, policy=POLICY).due_at == sh(2026, 10, 13, 17, 0)
    assert verification_status("2025-09-30T10:00", "paper", "2025-10-09T17:00:01", CAL, policy=POLICY).status == (
        VerificationOutcome.OVERDUE
    )
    for bad in (1632967200, 1.5, True, None, "yesterday", "9" * 10_000_000):
        with pytest.raises(RequestError) as info:
            verification_due(bad, "paper", CAL, policy=POLICY)  # type: ignore[arg-type]
        assert "requested_at" in str(info.value) and len(str(info.value)) < 300


def test_verification_status_electronic_minutes() -> None:
    req = datetime(2025, 6, 16, 11, 50)  # due 13:20 across lunch
    assert verification_status(req, "electronic", datetime(2025, 6, 16, 13, 0), CAL, policy=POLICY).status == (
        VerificationOutcome.ON_TIME
    )
    assert verification_status(req, "electronic", datetime(2025, 6, 16, 13, 21), CAL, policy=POLICY).status == (
        VerificationOutcome.OVERDUE
    )


# -- on-the-spot clock (附件2 第七条, last sentence) -----------------------------------------------


def test_approval_clock_without_pauses() -> None:
    clock = approval_clock(
        datetime(2025, 6, 16, 11, 0), datetime(2025, 6, 16, 14, 0), [], CAL, clause=POLICY.verification_clause,
        policy=POLICY,
    )
    assert isinstance(clock, ApprovalClock)
    assert clock.gross_minutes == 120  # 11:00-12:00 and 13:00-14:00
    assert clock.paused_minutes == 0
    assert clock.elapsed_minutes == 120
    assert clock.clause == "附件2 第七条"


def test_approval_clock_pauses_verification_once() -> None:
    start, now = datetime(2025, 6, 16, 9, 0), datetime(2025, 6, 16, 15, 0)  # 5 office hours
    intervals = [
        (datetime(2025, 6, 16, 10, 0), datetime(2025, 6, 16, 10, 40)),
        (datetime(2025, 6, 16, 10, 20), datetime(2025, 6, 16, 11, 0)),  # overlaps the first
        (datetime(2025, 6, 16, 11, 50), datetime(2025, 6, 16, 13, 10)),  # spans lunch: 20 min
        (datetime(2025, 6, 16, 8, 0), datetime(2025, 6, 16, 9, 5)),  # clipped to 09:00-09:05
        (datetime(2025, 6, 16, 14, 50), datetime(2025, 6, 16, 16, 0)),  # clipped to 14:50-15:00
        (datetime(2025, 6, 17, 9, 0), datetime(2025, 6, 17, 10, 0)),  # after now: ignored
    ]
    clock = approval_clock(start, now, intervals, CAL, policy=POLICY)
    assert clock.gross_minutes == 300
    assert clock.paused_minutes == 60 + 20 + 5 + 10  # 10:00-11:00 once, not 80
    assert clock.elapsed_minutes == 300 - 95


def test_approval_clock_across_days_and_aware_inputs() -> None:
    # Friday 16:00 to Monday 10:00 (UTC 02:00): 60 + 60 office minutes; the weekend is not office time
    clock = approval_clock(
        sh(2025, 6, 13, 16, 0),
        datetime(2025, 6, 16, 2, 0, tzinfo=UTC),
        [(datetime(2025, 6, 13, 16, 30), datetime(2025, 6, 16, 9, 15))],
        CAL,
        policy=POLICY,
    )
    assert clock.gross_minutes == 120
    assert clock.paused_minutes == 30 + 15
    assert clock.elapsed_minutes == 75


def test_approval_clock_errors() -> None:
    with pytest.raises(CalendarError):
        approval_clock(datetime(2025, 6, 16, 14), datetime(2025, 6, 16, 13), [], CAL, policy=POLICY)
    with pytest.raises(CalendarError):
        approval_clock(
            datetime(2025, 6, 16, 9),
            datetime(2025, 6, 16, 15),
            [(datetime(2025, 6, 16, 11), datetime(2025, 6, 16, 10))],
            CAL,
            policy=POLICY,
        )


# -- complaints (附件4 第十条) -------------------------------------------------------------------


def test_complaint_due_over_national_day_2026() -> None:
    d = complaint_due(date(2026, 9, 30), CAL, policy=POLICY)
    # 10-08 (1), 10-09 (2), 10-10 Saturday 调休 (3), 10-12 (4), 10-13 (5)
    assert d.due_at == sh(2026, 10, 13, 17, 0)
    assert d.clause == "附件4 第十条"
    assert "5 个工作日" in d.rule


def test_complaint_extension() -> None:
    d = complaint_due(date(2026, 9, 30), CAL, extension_days=5, policy=POLICY)
    # five more after 10-13: 10-14, 15, 16, 19, 20
    assert d.due_at == sh(2026, 10, 20, 17, 0)
    assert "延期 5 个工作日" in d.rule
    assert complaint_due(date(2026, 9, 30), CAL, extension_days=1, policy=POLICY).due_at == sh(2026, 10, 14, 17, 0)


@pytest.mark.parametrize("extension", [6, 10, -1])
def test_complaint_extension_limit(extension: int) -> None:
    with pytest.raises(ExtensionLimitError):
        complaint_due(date(2026, 9, 30), CAL, extension_days=extension, policy=POLICY)
    assert issubclass(ExtensionLimitError, CalendarError)


def test_complaint_limits_are_configurable() -> None:
    one_day = POLICY.model_copy(update={"complaint_working_days": 1, "complaint_max_extension_days": 2})
    assert complaint_due(date(2026, 9, 30), CAL, policy=one_day).due_at == sh(2026, 10, 8, 17, 0)
    with pytest.raises(ExtensionLimitError):
        complaint_due(date(2026, 9, 30), CAL, extension_days=3, policy=one_day)


# -- list adjustment and publication (附件3 第九条, 第五条) ----------------------------------------


def test_adjustment_due_over_spring_festival_2026() -> None:
    d = adjustment_due(date(2026, 2, 13), CAL, policy=POLICY)
    # 02-14 Saturday 调休 (1), 24 (2), 25 (3), 26 (4), 27 (5), 28 Saturday 调休 (6), 03-02 (7)
    assert d.due_at == sh(2026, 3, 2, 17, 0)
    assert d.clause == "附件3 第九条"
    assert "7 个工作日" in d.rule


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2026, 1, 15), date(2026, 6, 30)),
        (date(2026, 6, 30), date(2026, 6, 30)),  # on the day itself
        (date(2026, 7, 1), date(2026, 12, 31)),
        (date(2026, 12, 31), date(2026, 12, 31)),
        (datetime(2026, 12, 31, 16, 30, tzinfo=UTC), date(2027, 6, 30)),  # 2027-01-01 Shanghai
    ],
)
def test_next_publication_date(on: date, expected: date) -> None:
    assert next_publication_date(on, POLICY.publication_month_days) == expected


def test_next_publication_date_configured() -> None:
    dates = ["09-30", "03-31"]
    assert next_publication_date(date(2026, 4, 1), dates) == date(2026, 9, 30)
    assert next_publication_date(date(2026, 10, 1), dates) == date(2027, 3, 31)
    for bad in (["02-29"], ["6-30"], ["13-01"], []):
        with pytest.raises(CalendarError):
            next_publication_date(date(2026, 1, 1), bad)


# -- pledge post-check (三(三)2) -----------------------------------------------------------------


def test_post_check_due() -> None:
    d = post_check_due(datetime(2025, 9, 30, 15, 0), 5, CAL, clause="三(三)2", policy=POLICY)
    # 10-09 (1), 10-10 (2), 10-11 Saturday 调休 (3), 10-13 (4), 10-14 (5)
    assert d.due_at == sh(2025, 10, 14, 17, 0)
    assert d.clause == "三(三)2"
    for bad in (0, -3):
        with pytest.raises(CalendarError):
            post_check_due(datetime(2025, 9, 30, 15, 0), bad, CAL, policy=POLICY)


# -- unknown years -----------------------------------------------------------------------------


def test_deadline_in_2027_warns_until_the_overrides_declare_it() -> None:
    if 2027 in holidays_known_years():
        pytest.skip("holidays now carries the 2027 notice")
    d = complaint_due(date(2026, 12, 28), CAL, policy=POLICY)  # runs into January 2027
    assert d.due_at.year == 2027
    assert len(d.warnings) == 1 and "2027" in d.warnings[0] and "known_years" in d.warnings[0]
    inside = verification_due(datetime(2027, 3, 3, 10), "electronic", CAL, policy=POLICY)
    assert len(inside.warnings) == 1 and "2027" in inside.warnings[0]
    for limit in (
        StatutoryLimit(working_minutes=45, basis="x"),
        StatutoryLimit(working_days=3, basis="x"),
    ):
        statutory = verification_due(datetime(2027, 3, 3, 10), "paper", CAL, limit=limit, policy=POLICY)
        assert len(statutory.warnings) == 1 and "2027" in statutory.warnings[0]
    clock = approval_clock(datetime(2027, 3, 3, 10), datetime(2027, 3, 3, 11), [], CAL, policy=POLICY)
    assert len(clock.warnings) == 1 and "2027" in clock.warnings[0]
    for start, due in (
        (datetime(2026, 12, 24, 10), post_check_due(datetime(2026, 12, 24, 10), 10, CAL, policy=POLICY)),
        (date(2026, 12, 28), adjustment_due(date(2026, 12, 28), CAL, policy=POLICY)),
    ):
        assert due.due_at.year == 2027 and "2027" in due.warnings[0], start
    declared = WorkCalendar(overrides=CalendarOverrides(known_years=[2027]))
    assert complaint_due(date(2026, 12, 28), declared, policy=POLICY).warnings == []
    assert verification_due(datetime(2027, 3, 3, 10), "electronic", declared, policy=POLICY).warnings == []


def test_deadline_past_the_last_known_year_warns() -> None:
    last = max(holidays_known_years())
    d = adjustment_due(date(last, 12, 28), CAL, policy=POLICY)
    assert any(str(last + 1) in w for w in d.warnings)
    assert adjustment_due(date(last, 6, 1), CAL, policy=POLICY).warnings == []

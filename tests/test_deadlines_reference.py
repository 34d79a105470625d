"""verification_due against the implementation it replaced (kept below as the reference).

verification_due builds its rule texts once per figure (cached) and reads the calendar's tables;
the reference builds every text in place and asks the calendar only through its public methods.
Deadlines must be equal field by field (due_at with its zone and fold, rule, clause, warnings)
for every record kind, for the ruleset's limits and others, in days and minutes, with and without
a row's statutory limit, from naive, Shanghai-aware, other-zone, date and text starts.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from nocert_rules.enums import RecordKind
from nocert_rules.policy.ruleset import load_ruleset
from nocert_rules.worktime.calendar import SHANGHAI, OfficeHours, WorkCalendar, as_moment
from nocert_rules.worktime.deadlines import (
    Deadline,
    DeadlinePolicy,
    StatutoryLimit,
    WorkingLimit,
    verification_due,
)

ZIBO = load_ruleset(Path(__file__).resolve().parents[1] / "rulesets" / "zibo")
CALENDARS = [
    WorkCalendar(),
    WorkCalendar(office_hours=OfficeHours.model_validate(
        {"periods": [{"start": "08:30", "end": "12:00"}, {"start": "14:00", "end": "17:30:30"}]}
    )),
]
LABELS = {
    RecordKind.ELECTRONIC: "已有数据库或电子化存储",
    RecordKind.PAPER: "需查阅纸质档案",
    RecordKind.INCOMPLETE_ARCHIVE: "因历史原因档案不全需多方查找",
}


def ref_verification_due(
    requested_at: date | datetime | str,
    records: RecordKind | str,
    calendar: WorkCalendar,
    limit: StatutoryLimit | None,
    policy: DeadlinePolicy,
) -> Deadline:
    """The implementation before the rule texts were cached (deadlines.py as of commit d7f378a)."""
    kind = RecordKind(records)
    start = as_moment(requested_at, "requested_at")

    def by_days(days: int, rule: str, clause: str | None) -> Deadline:
        last = calendar.add_working_days(start, days)
        return Deadline(due_at=calendar.close_of_business(last), rule=rule, clause=clause,
                        warnings=calendar.warnings_for(start, last))

    if limit is not None:
        clause = policy.statutory_limit_clause
        if limit.working_days is not None:
            return by_days(
                limit.working_days,
                f"按法定程序办理，在规定时间内：{limit.working_days} 个工作日，至最后一日下班时止"
                f"（依据：{limit.basis}） / statutory procedure: {limit.working_days} working "
                f"days, ending at close of business on the last day (basis: {limit.basis})",
                clause,
            )
        minutes = limit.working_minutes or 0
        due = calendar.add_working_minutes(start, minutes)
        return Deadline(
            due_at=due,
            rule=f"按法定程序办理，在规定时间内：{minutes} 个工作分钟（依据："
            f"{limit.basis}） / statutory procedure: {minutes} working minutes "
            f"(basis: {limit.basis})",
            clause=clause,
            warnings=calendar.warnings_for(start, due),
        )
    plan = policy.verification[kind]
    label = LABELS[kind]
    if plan.working_days is not None:
        days = plan.working_days
        rule = (
            f"{label}：{days} 个工作日，至最后一日下班时止 / {kind.value} records: "
            f"{days} working day{'' if days == 1 else 's'}, ending at close of business"
        )
        return by_days(days, rule, policy.verification_clause)
    minutes = plan.working_minutes or 0
    due = calendar.add_working_minutes(start, minutes)
    return Deadline(
        due_at=due,
        rule=f"{label}：{minutes} 个工作分钟 / {kind.value} records: {minutes} working minutes",
        clause=policy.verification_clause,
        warnings=calendar.warnings_for(start, due),
    )


limits = st.one_of(
    st.builds(lambda n: WorkingLimit(working_days=n), st.integers(1, 25)),
    st.builds(lambda n: WorkingLimit(working_minutes=n), st.integers(1, 6000)),
)


@st.composite
def policies(draw: st.DrawFn) -> DeadlinePolicy:
    """Zibo's deadline policy, or one with other figures for some record kinds."""
    policy = ZIBO.deadline_policy
    if draw(st.booleans()):
        return policy
    verification = {k: draw(limits) if draw(st.booleans()) else v for k, v in policy.verification.items()}
    return policy.model_copy(update={"verification": verification})


statutory = st.one_of(
    st.none(),
    st.builds(
        lambda days, minutes, basis: StatutoryLimit(
            working_days=days, working_minutes=None if days else minutes, basis=basis
        ),
        st.one_of(st.none(), st.integers(1, 20)),
        st.integers(1, 3000),
        st.sampled_from(["不动产登记暂行条例 第二十条", "《档案法》", "basis (en)"]),
    ),
)


@st.composite
def starts(draw: st.DrawFn) -> date | datetime | str:
    local = draw(st.datetimes(min_value=datetime(1999, 6, 1), max_value=datetime(2030, 6, 30)))
    kind = draw(st.sampled_from(["naive", "shanghai", "zone", "date", "text"]))
    if kind == "naive":
        return local
    if kind == "shanghai":
        return local.replace(tzinfo=SHANGHAI, fold=draw(st.integers(0, 1)))
    if kind == "zone":
        zone = draw(st.sampled_from([UTC, timezone(timedelta(hours=-9)), timezone(timedelta(hours=5, minutes=45))]))
        return local.replace(tzinfo=SHANGHAI).astimezone(zone)
    if kind == "date":
        return local.date()
    return datetime.combine(local.date(), time(local.hour, local.minute)).isoformat()


@settings(max_examples=400, deadline=None)
@given(
    start=starts(),
    records=st.sampled_from([*RecordKind, *(k.value for k in RecordKind)]),
    calendar=st.sampled_from(CALENDARS),
    limit=statutory,
    policy=policies(),
)
def test_verification_due_matches_the_reference(
    start: date | datetime | str,
    records: RecordKind | str,
    calendar: WorkCalendar,
    limit: StatutoryLimit | None,
    policy: DeadlinePolicy,
) -> None:
    got = verification_due(start, records, calendar, limit, policy=policy)
    want = ref_verification_due(start, records, calendar, limit, policy)
    assert got == want
    assert (got.due_at.tzinfo, got.due_at.fold) == (want.due_at.tzinfo, want.due_at.fold)

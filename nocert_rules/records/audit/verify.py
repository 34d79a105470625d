"""Verifying a log (:func:`verify_log`): one streaming pass, O(n), flat memory, no recursion.

Each line's form, hash and MAC (when a key is given), then its place in the chain: sequence and
link. What is wrong is a :class:`LogProblem` of one kind (edited, forged, removed, inserted,
duplicate, reordered, …); anchors (an expected head, a minimum seq, a head checkpoint) detect
removal at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, Literal

from pydantic import BaseModel, ConfigDict

from nocert_rules.records.audit.checkpoint import read_head_file
from nocert_rules.records.audit.entry import (
    GENESIS,
    AuditLogError,
    RawEntry,
    is_hash,
    parse_line,
    read_lines,
)
from nocert_rules.records.audit.keys import mac_keys_by_kid

ProblemKind = Literal[
    "malformed",
    "noncanonical",
    "edited",
    "forged",
    "unknown-key",
    "removed",
    "inserted",
    "duplicate",
    "reordered",
    "truncated",
    "head-mismatch",
]


class LogProblem(BaseModel):
    """Something wrong at a line.

    ``kind``: ``malformed`` (not an entry), ``noncanonical`` (an entry whose bytes are not its
    canonical form: duplicate key, reordered keys, whitespace), ``edited`` (content no longer
    matches its hash, or changed and re-hashed, found from the next link), ``forged`` (the MAC
    does not match: written without the key), ``unknown-key`` (its ``kid`` names a key not
    given), ``removed`` (a gap in the sequence), ``inserted``, ``duplicate`` (a second entry
    with a seq already seen), ``reordered`` (an entry after the one that follows it), and, with
    an anchor, ``truncated`` / ``head-mismatch`` (``line`` is then the last intact line, 0 when
    there is none).
    """

    model_config = ConfigDict(frozen=True)

    line: int
    kind: ProblemKind
    message: str


class LogVerification(BaseModel):
    """The result of :func:`verify_log`.

    ``ok``: no problem and no torn tail. ``records``: well-formed entries read (the torn tail
    excluded). ``head``, ``head_seq``, ``head_line``: the hash, seq and line of the last entry of
    the verified chain. ``anchored``: an anchor was given and matched. ``authenticated``: a key
    was given and every entry's MAC matched. ``missing_newline``: the last entry is intact and
    chained but lacks its newline (kept; ``AuditLog`` completes it). ``problems_omitted``: how
    many problems past ``max_problems`` were counted but not listed.
    """

    model_config = ConfigDict(frozen=True)

    path: str
    ok: bool
    records: int
    problems: list[LogProblem]
    problems_omitted: int = 0
    torn_tail: bool
    torn_line: int | None = None
    missing_newline: bool = False
    head: str | None = None
    head_seq: int = 0
    head_line: int | None = None
    anchored: bool = False
    authenticated: bool = False


class _Chain:
    """The streaming chain check: constant state plus what is wrong (gaps awaiting a late entry)."""

    def __init__(self, mac_keys: dict[str, bytes], anchors: set[str], max_problems: int) -> None:
        self.mac_keys = mac_keys
        self.anchors = anchors
        self.found_anchors: dict[str, int] = {}
        self.max_problems = max_problems
        self.problems: list[LogProblem] = []
        self.omitted = 0
        self.expected, self.last_hash, self.last_line = 1, GENESIS, 0
        self.before_last = GENESIS
        self.head: RawEntry | None = None
        self.gaps: dict[int, int] = {}  # missing seq -> line where its absence was noticed
        self.recent: dict[int, str] = {}  # seq -> hash of recently accepted entries (duplicates)
        self.records = 0
        self.authentic_all = bool(mac_keys)
        self.forged_seq: int | None = None  # seq of the entry just refused as forged
        self.bad_run = 0  # malformed lines just before the entry being fed

    def problem(self, line: int, kind: ProblemKind, message: str) -> None:
        if len(self.problems) < self.max_problems:
            self.problems.append(LogProblem(line=line, kind=kind, message=message))
        else:
            self.omitted += 1

    def accept(self, e: RawEntry) -> None:
        self.before_last = self.last_hash
        self.expected, self.last_hash, self.last_line = e.seq + 1, e.hash, e.line
        self.head = e
        self.recent[e.seq] = e.hash
        if len(self.recent) > 4096:
            self.recent.pop(next(iter(self.recent)))
        if e.hash in self.anchors:
            self.found_anchors[e.hash] = e.seq

    def links(self, e: RawEntry) -> bool:
        return e.seq == self.expected and e.prev == self.last_hash

    def feed(self, e: RawEntry, nxt: RawEntry | None) -> None:
        """Check one entry; ``nxt`` is the following entry (one line of look-ahead) or None."""
        self.records += 1
        bad_before, self.bad_run = self.bad_run, 0
        if not e.intact:
            self.problem(e.line, "edited", f"条目内容与其哈希不符（序号 {e.seq}） / entry seq {e.seq} no longer matches its hash")
            self.authentic_all = False
            self.accept(e)  # keep its claimed hash so that the rest of the chain is still checked
            return
        if self.mac_keys and self.forged(e):
            return  # never part of the chain
        forged_before, self.forged_seq = self.forged_seq, None
        if self.links(e):
            self.accept(e)
        elif e.seq < self.expected:
            self.behind(e, nxt)
        elif nxt is not None and self.links(nxt) and e.seq > self.expected and e.prev != nxt.hash:
            self.problem(
                e.line, "inserted", "插入的条目：下一条直接接续其前一条 / an inserted entry: the next entry links to the one before it"
            )
        elif e.seq == self.expected:  # the sequence is intact but the link is broken
            if self.head is not None:
                self.problem(
                    self.last_line,
                    "edited",
                    f"条目已被改动并重算哈希：第 {e.line} 行的链接与之不符 / entry changed and re-hashed: "
                    f"the link of line {e.line} no longer matches it",
                )
            self.accept(e)
        else:
            self.gap(e, forged_before, bad_before)
            self.accept(e)

    def forged(self, e: RawEntry) -> bool:
        """Check the MAC: True when it does not match (``forged``); an unknown key is reported
        (``unknown-key``) and the entry still chained."""
        ok = e.authentic(self.mac_keys)
        if ok is None:
            self.authentic_all = False
            self.problem(
                e.line,
                "unknown-key",
                f"条目以未知密钥 {e.kid!r} 写入，无法核验 / entry seq {e.seq} was written under key "
                f"{e.kid!r}, which was not given: it cannot be authenticated",
            )
            return False
        if ok:
            return False
        self.authentic_all = False
        self.forged_seq = e.seq
        self.problem(
            e.line,
            "forged",
            f"条目的 MAC 不符：不是持有密钥者写入（伪造、改动后重算哈希或整链重写）（序号 {e.seq}） / "
            f"entry seq {e.seq}: the MAC does not match: not written with the key (forged, "
            "edited and re-hashed, or the chain rewritten)",
        )
        return True

    def behind(self, e: RawEntry, nxt: RawEntry | None) -> None:
        """An entry whose seq was already passed: reordered, a duplicate, or inserted."""
        if e.seq in self.gaps:
            noticed = self.gaps.pop(e.seq)
            self.problem(
                e.line,
                "reordered",
                f"序号 {e.seq} 的条目顺序错误：应在第 {noticed} 行之前 / entry seq {e.seq} is out of "
                f"order: it belongs before line {noticed}",
            )
            return
        if self.recent.get(e.seq) == e.hash:
            self.problem(e.line, "duplicate", f"重复的条目（序号 {e.seq}） / a copy of the entry seq {e.seq}")
            return
        # two entries claim the same place; the next entry tells which one the chain continues
        if e.seq == self.expected - 1 and e.prev == self.before_last and nxt is not None and nxt.prev == e.hash:
            self.problem(
                self.last_line,
                "inserted",
                f"插入的条目：第 {e.line} 行（序号 {e.seq}）接续其前一条 / an inserted entry: "
                f"line {e.line} (seq {e.seq}) links to the entry before it",
            )
            self.accept(e)
            return
        self.problem(
            e.line,
            "inserted",
            f"插入的条目：序号 {e.seq} 已出现过 / an inserted entry: seq {e.seq} was already seen",
        )

    def gap(self, e: RawEntry, forged_before: int | None, bad_before: int) -> None:
        """``e.seq > expected``: a late entry may fill the gap (reordered), else it was removed."""
        skipped = range(self.expected, e.seq)
        if forged_before is not None and list(skipped) == [forged_before]:
            return  # the authentic entry was replaced by the forged one just reported
        if bad_before and len(skipped) <= bad_before:
            return  # replaced by the malformed lines just reported
        if len(self.gaps) + len(skipped) <= 100_000:  # flat memory, whatever the damage
            for s in skipped:
                self.gaps.setdefault(s, e.line)
            return
        gap = f"{self.expected}–{e.seq - 1}"
        self.problem(e.line, "removed", f"第 {e.line} 行之前缺少序号 {gap} 的条目 / entries seq {gap} are missing before line {e.line}")

    def finish(self) -> None:
        by_line: dict[int, list[int]] = {}
        for s, line in self.gaps.items():
            by_line.setdefault(line, []).append(s)
        for line, seqs in sorted(by_line.items()):
            seqs.sort()
            gap = str(seqs[0]) if len(seqs) == 1 else f"{seqs[0]}–{seqs[-1]}"
            self.problem(
                line, "removed", f"第 {line} 行之前缺少序号 {gap} 的条目 / entries seq {gap} are missing before line {line}"
            )


Anchor = tuple[str, int | None, str, str]
"""(hash, seq if known, source in Chinese, in English)."""


def _anchors(
    expect_head: str | None, min_records: int | None, head_file: str | Path | None
) -> tuple[list[Anchor], int]:
    """The anchors given, and the seq the chain must reach."""
    anchors: list[Anchor] = []
    if expect_head is not None:
        if not is_hash(expect_head.lower()):
            raise AuditLogError("expect_head 须为 64 位十六进制 / expect_head must be 64 hex digits")
        anchors.append((expect_head.lower(), None, "所给链头", "expected head"))
    expected_seq = 0
    if min_records is not None:
        if type(min_records) is not int or min_records < 0:
            raise AuditLogError("min_records 须为非负整数 / min_records must be a non-negative int")
        expected_seq = min_records
    if head_file is not None:
        cp_seq, cp_hash = read_head_file(head_file)
        anchors.append((cp_hash, cp_seq, f"检查点 {head_file} 的链头", f"head of checkpoint {head_file}"))
        expected_seq = max(expected_seq, cp_seq)
    return anchors, expected_seq


def _read_chain(f: BinaryIO, chain: _Chain) -> tuple[int | None, bool]:
    """Feed every line of ``f`` to ``chain``; ``(torn line or None, last entry missing its newline)``."""
    pending: RawEntry | None = None  # one entry of look-ahead
    torn_line: int | None = None
    missing_newline = False
    for i, raw, terminated in read_lines(f):
        parsed = parse_line(raw, i)
        if not terminated:
            # the last bytes lack a newline: an intact entry that continues the chain is kept;
            # anything else is an append that never returned (torn) and is not verified
            if isinstance(parsed, RawEntry) and parsed.intact and _continues(chain, pending, parsed):
                missing_newline = True
            else:
                torn_line = i
                break
        if isinstance(parsed, RawEntry):
            if pending is not None:
                chain.feed(pending, parsed)
            pending = parsed
        else:
            if pending is not None:
                chain.feed(pending, None)
                pending = None
            chain.problem(i, parsed[0], parsed[1])
            chain.bad_run += 1
    if pending is not None:
        chain.feed(pending, None)
    return torn_line, missing_newline


def verify_log(
    path: str | Path,
    expect_head: str | None = None,
    min_records: int | None = None,
    *,
    head_file: str | Path | None = None,
    key: bytes | None = None,
    keys: Sequence[bytes] = (),
    mac_keys: Sequence[bytes] = (),
    max_problems: int = 1000,
) -> LogVerification:
    """Check every line's form, hash, MAC, sequence and link in one streaming pass.

    ``key`` / ``keys``: host keys (the MAC keys are derived); ``mac_keys``: MAC keys as given to
    an auditor (:func:`audit_mac_key`). Entries name their key by ``kid``, so a log written
    across a key rotation verifies with all its keys. Without any key only the chain is checked.

    ``expect_head``: a head hash stored elsewhere; it must be the hash of an entry of the chain
    (entries appended after it are fine), else ``head-mismatch``. ``min_records``: the chain must
    reach that seq, else ``truncated``. ``head_file``: a checkpoint written by
    ``AuditLog(..., head_file=...)``: both at once.

    Raises ``OSError`` when the log or the checkpoint is missing or unreadable (the CLI exits 2),
    :class:`AuditLogError` when ``expect_head``, the checkpoint or a key is not one.
    """
    anchors, expected_seq = _anchors(expect_head, min_records, head_file)
    all_keys = [*([key] if key is not None else []), *keys]
    chain = _Chain(mac_keys_by_kid(all_keys, mac_keys), {a[0] for a in anchors}, max_problems)
    with Path(path).open("rb") as f:
        torn_line, missing_newline = _read_chain(f, chain)
    chain.finish()
    problems = chain.problems
    head_entry = chain.head
    anchored = bool(anchors) or min_records is not None
    if anchored:
        before = len(problems)
        _check_anchors(head_entry, chain.found_anchors, anchors, expected_seq, problems)
        anchored = len(problems) == before
    problems.sort(key=lambda p: p.line)
    ok = not problems and not chain.omitted and torn_line is None
    head_seq, head_line = (head_entry.seq, head_entry.line) if head_entry is not None else (0, None)
    return LogVerification(
        path=str(path),
        ok=ok,
        records=chain.records,
        problems=problems,
        problems_omitted=chain.omitted,
        torn_tail=torn_line is not None,
        torn_line=torn_line,
        missing_newline=missing_newline,
        head=head_entry.hash if head_entry is not None else None,
        head_seq=head_seq,
        head_line=head_line,
        anchored=anchored and ok,
        authenticated=chain.authentic_all and chain.records > 0 and ok,
    )


def _continues(chain: _Chain, pending: RawEntry | None, e: RawEntry) -> bool:
    """Whether ``e`` is the next entry of the chain (after ``pending``, not yet fed)."""
    if pending is not None:
        return e.seq == pending.seq + 1 and e.prev == pending.hash
    return chain.links(e)


def _last_intact(head: RawEntry | None) -> str:
    if head is None:
        return "日志中没有完好的条目 / the log has no intact entry"
    return f"最后完好的条目：第 {head.line} 行（序号 {head.seq}） / last intact entry: line {head.line} (seq {head.seq})"


def _check_anchors(
    head: RawEntry | None,
    found: dict[str, int],
    anchors: list[Anchor],
    expected_seq: int,
    problems: list[LogProblem],
) -> None:
    """Append ``truncated`` / ``head-mismatch`` problems when the log is not what was anchored."""
    line = head.line if head is not None else 0
    head_seq = head.seq if head is not None else 0
    truncated = head_seq < expected_seq
    if truncated:
        problems.append(
            LogProblem(
                line=line,
                kind="truncated",
                message=f"日志只到序号 {head_seq}，应至少到 {expected_seq}：末尾的条目被删除 / the log ends at "
                f"seq {head_seq}, expected at least {expected_seq}: entries were removed from the end; "
                + _last_intact(head),
            )
        )
    for digest, seq, source_zh, source in anchors:
        if digest == GENESIS or digest in found:
            if seq is None or digest == GENESIS or found[digest] == seq:
                continue
        if truncated and (seq is None or seq > head_seq):
            continue  # explained by the truncation already reported
        problems.append(
            LogProblem(
                line=line,
                kind="head-mismatch",
                message=f"{source_zh} {digest[:12]}… 不在链中：末尾的条目被删除或替换，或整条链被重写 / the "
                f"{source} {digest[:12]}… is not in the chain: entries at the end were removed or "
                "replaced, or the chain was rewritten; " + _last_intact(head),
            )
        )

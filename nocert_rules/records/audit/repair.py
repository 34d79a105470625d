"""The end of a log, checked before anything is appended: the last entry authentic, the head
checkpoint reached, and the last fragment completed (an intact entry missing its newline) or, when
asked, cut (a torn write). Never cuts an acknowledged entry: the checkpoint is checked first.
"""

from __future__ import annotations

import os
from pathlib import Path

from nocert_rules.records.audit.checkpoint import read_head_file, write_head_file
from nocert_rules.records.audit.entry import (
    GENESIS,
    AuditLogError,
    LogEntry,
    RawEntry,
    Written,
    parse_line,
    read_lines,
)


def tail(path: Path) -> tuple[bytes | None, bytes | None, int]:
    """``(last newline-terminated line or None, unterminated last fragment or None, offset of the
    fragment)``, reading backwards from the end (never the whole file)."""
    size = path.stat().st_size
    if size == 0:
        return None, None, 0
    with path.open("rb") as f:
        pos, chunk = size, b""
        while True:
            step = min(65536, pos)
            pos -= step
            f.seek(pos)
            chunk = f.read(step) + chunk
            last_nl = chunk.rfind(b"\n")
            if last_nl == -1:
                if pos == 0:
                    return None, chunk, 0  # one unterminated line
                continue
            prev_nl = chunk.rfind(b"\n", 0, last_nl)
            if prev_nl == -1 and pos > 0:
                continue
            fragment = chunk[last_nl + 1 :] or None
            return chunk[prev_nl + 1 : last_nl], fragment, pos + last_nl + 1


def authentic_entry(path: Path, raw: bytes, mac_keys: dict[str, bytes]) -> RawEntry:
    """The entry of a complete last line; AuditLogError when it is not an authentic entry."""
    parsed = parse_line(raw, 0)
    if not isinstance(parsed, RawEntry):
        raise AuditLogError(
            f"{path}: 末行完整（以换行结尾）却不是日志条目：不是写入中断，而是被改动或损坏；"
            "不会自动截去，请运行 audit verify / the last complete (newline-terminated) line is "
            "not a log entry: not an interrupted write but tampering or damage. It is never "
            "truncated automatically (repair_torn_tail only cuts an unterminated last fragment); "
            "run `nocert-rules audit verify`"
        )
    if not parsed.intact:
        raise AuditLogError(
            f"{path}: 末条目已损坏或被改动，请运行 audit verify / the last entry is damaged "
            "or altered; run `nocert-rules audit verify`"
        )
    authentic = parsed.authentic(mac_keys)
    if authentic is None:
        raise AuditLogError(
            f"{path}: 末条目以另一密钥（{parsed.kid}）写入；轮换密钥时请传入 previous_keys / the last "
            f"entry was written under another key ({parsed.kid}); after a rotation pass previous_keys"
        )
    if not authentic:
        raise AuditLogError(
            f"{path}: 末条目的 MAC 不符（伪造或被改动），请运行 audit verify / the last entry's MAC "
            "does not match (forged or altered); run `nocert-rules audit verify`"
        )
    return parsed


def last_entry(path: Path, mac_keys: dict[str, bytes]) -> RawEntry | None:
    """The last entry; None for an empty log. Raises on a torn or damaged tail."""
    last, fragment, _ = tail(path)
    if fragment is not None:
        raise AuditLogError(f"{path}: 末行不完整 / the last line is torn")
    return authentic_entry(path, last, mac_keys) if last is not None else None


def open_tail(path: Path, mac_keys: dict[str, bytes], head_file: Path | None, repair: bool) -> None:
    """Check the end of the log and the checkpoint, then complete or cut the last fragment.

    An unterminated last fragment that is an authentic entry continuing the chain is an
    intact entry missing its newline: the newline is added. Anything else unterminated is
    torn: refused unless ``repair``, and cut only after the checkpoint was checked against
    the log without it.
    """
    last, fragment, offset = tail(path)
    entry = authentic_entry(path, last, mac_keys) if last is not None else None
    completed = parse_line(fragment, 0) if fragment is not None else None
    if isinstance(completed, RawEntry) and _continues(completed, entry, mac_keys):
        if head_file is not None:
            check_checkpoint(path, head_file, completed)
        with path.open("ab") as f:  # an intact entry missing its newline: complete it
            f.write(b"\n")
            f.flush()
            os.fsync(f.fileno())
        entry, fragment = completed, None
    if head_file is not None:
        check_checkpoint(path, head_file, entry)  # before any repair: never cut an acknowledged entry
    if fragment is not None:
        _cut(path, offset, repair)
    if head_file is not None and _checkpoint_behind(head_file, entry):
        head_file.parent.mkdir(parents=True, exist_ok=True)
        write_head_file(head_file, *seq_hash(entry))


def _continues(parsed: RawEntry, last: RawEntry | None, mac_keys: dict[str, bytes]) -> bool:
    """Whether an unterminated fragment is an intact, authentic entry that continues the chain after ``last``."""
    seq, digest = seq_hash(last)
    return (
        parsed.intact
        and bool(parsed.authentic(mac_keys))
        and parsed.seq == seq + 1
        and parsed.prev == digest
    )


def _cut(path: Path, offset: int, repair: bool) -> None:
    """Cut a torn last fragment at ``offset`` (only with ``repair``: else refused)."""
    if not repair:
        raise AuditLogError(
            f"{path}: 末行不完整（写入中断），修复前不能追加；用 repair_torn_tail=True 截去末行 / "
            "the last line is torn (interrupted write); open with repair_torn_tail=True to "
            "truncate it"
        )
    with path.open("r+b") as f:
        f.truncate(offset)
        f.flush()
        os.fsync(f.fileno())


def _checkpoint_behind(head_file: Path, last: RawEntry | None) -> bool:
    try:
        return read_head_file(head_file) != seq_hash(last)
    except FileNotFoundError:
        return True


def check_checkpoint(path: Path, head_file: Path, last: RawEntry | LogEntry | Written | None) -> None:
    """Raise when the log does not reach the head checkpoint or does not contain it."""
    try:
        cp_seq, cp_hash = read_head_file(head_file)
    except FileNotFoundError:
        return
    seq, digest = seq_hash(last)
    where = f"{path}（检查点 / checkpoint {head_file}）"
    if seq < cp_seq:
        raise AuditLogError(
            f"{where}: 日志只到序号 {seq}，检查点为 {cp_seq}：末尾的条目被删除，请运行 audit verify / "
            f"the log ends at seq {seq} but the checkpoint is at seq {cp_seq}: entries were "
            "removed from the end (truncated); run `nocert-rules audit verify --head-file`"
        )
    if seq == cp_seq and digest == cp_hash:
        return
    if cp_seq == 0 or (last is not None and seq == cp_seq + 1 and last.prev == cp_hash):
        return  # later appends (e.g. a crash between the append and the checkpoint)
    if seq > cp_seq and contains(path, cp_seq, cp_hash):
        return
    raise AuditLogError(
        f"{where}: 检查点的链头 {cp_hash[:12]}… 不在链中：条目被替换或链被重写，请运行 audit verify / "
        f"the checkpoint's head {cp_hash[:12]}… (seq {cp_seq}) is not in the chain: entries were "
        "replaced or the chain rewritten; run `nocert-rules audit verify --head-file`"
    )


def contains(path: Path, seq: int, digest: str) -> bool:
    """Whether the log holds an intact entry ``seq`` with hash ``digest`` (one streaming pass)."""
    with path.open("rb") as f:
        for i, raw, _terminated in read_lines(f):
            parsed = parse_line(raw, i)
            if isinstance(parsed, RawEntry) and parsed.seq == seq and parsed.hash == digest and parsed.intact:
                return True
    return False


def seq_hash(entry: RawEntry | LogEntry | Written | None) -> tuple[int, str]:
    return (entry.seq, entry.hash) if entry is not None else (0, GENESIS)

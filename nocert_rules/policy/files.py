"""Loading stage 1, read: a ruleset folder's files as bytes, each checked before it is read.

Input: the ruleset folder (and the folders of its ``extends:`` chain). Output: the bytes of each
file read, by its name in the folder (``RulesetFolder.files``, what the ruleset hash covers).

A file is read only when its real path (``os.path.realpath``, symbolic links followed) lies
inside the ruleset folder or a folder of its ``extends:`` chain, when it is a regular file (a
FIFO, socket or device is an error, not "absent": reading one could block or never end) and when
its size (``stat``, before reading) is at most ``max_file_bytes``. Each refusal is a
``RulesetError`` naming the file.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from nocert_rules.errors import RulesetError

MAX_FILE_BYTES = 256 * 2**20
"""The default cap on one ruleset file (256 MiB: a list of 100,000 rows is about 53 MiB)."""


def _refused(name: str, problem: str) -> RulesetError:
    return RulesetError(name, None, None, problem)


def _check_stat(name: str, st: os.stat_result, max_bytes: int) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise _refused(name, "is a directory, not a file / 是目录而非文件")
    if not stat.S_ISREG(st.st_mode):
        raise _refused(name, "is not a regular file (a FIFO, socket or device) / 不是普通文件（管道、套接字或设备）")
    if st.st_size > max_bytes:
        raise _refused(
            name, f"is {st.st_size} bytes, more than the limit of {max_bytes} bytes / 文件过大（上限 {max_bytes} 字节）"
        )


def file_status(path: Path, name: str, max_bytes: int = MAX_FILE_BYTES) -> bool:
    """Whether ``path`` exists (False when absent); raises when it exists but may not be read."""
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as exc:
        raise _refused(name, f"cannot read / 无法读取: {exc.strerror}") from exc
    _check_stat(name, st, max_bytes)
    return True


def read_file(path: Path, name: str, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file ``path`` (at most ``max_bytes``); problems name ``name``.

    The type and size are checked with ``stat`` before the file is opened (a FIFO is never
    opened), and again on the open file; no more than ``max_bytes + 1`` bytes are ever read."""
    if not file_status(path, name, max_bytes):
        raise _refused(name, "file not found / 文件不存在")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise _refused(name, f"cannot read / 无法读取: {exc.strerror}") from exc
    try:
        _check_stat(name, os.fstat(fd), max_bytes)  # the file opened is the one checked
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise _refused(name, f"cannot read / 无法读取: {exc.strerror}") from exc
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # grew since the check
        raise _refused(name, f"is more than the limit of {max_bytes} bytes / 文件过大（上限 {max_bytes} 字节）")
    return data


class RulesetFolder:
    """The files of one ruleset folder, read safely (see the module doc) and kept for the hash."""

    def __init__(self, directory: Path, max_file_bytes: int | None = None) -> None:
        self.directory = directory
        self.max_file_bytes = MAX_FILE_BYTES if max_file_bytes is None else max_file_bytes
        self.roots: list[Path] = [Path(os.path.realpath(directory))]
        self.files: dict[str, bytes] = {}
        """name -> the bytes read (what the ruleset hash covers)."""

    def allow(self, folder: Path) -> None:
        """Let files resolve into ``folder`` too (a folder of the ``extends:`` chain)."""
        self.roots.append(Path(os.path.realpath(folder)))

    def _inside(self, name: str) -> Path:
        path = self.directory / name
        real = Path(os.path.realpath(path))
        if not any(real == root or real.is_relative_to(root) for root in self.roots):
            raise _refused(
                name,
                "resolves outside the ruleset folder (a symbolic link out of it?); refused / "
                "文件实际位置在规则集目录之外（符号链接？），拒绝读取",
            )
        return path

    def exists(self, name: str) -> bool:
        """Whether the folder has ``name`` (False when absent); raises when it may not be read."""
        path = self.directory / name
        if not os.path.lexists(path):
            return False
        return file_status(self._inside(name), name, self.max_file_bytes)

    def read(self, name: str) -> bytes:
        """The bytes of ``name`` (kept in ``files``); raises ``RulesetError`` naming it."""
        data = read_file(self._inside(name), name, self.max_file_bytes)
        self.files[name] = data
        return data


def hash_files(files: dict[str, bytes]) -> str:
    """The ruleset's sha256: every file's name and the sha256 of its bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


__all__ = ["MAX_FILE_BYTES", "RulesetFolder", "file_status", "hash_files", "read_file"]

"""Each serving process on a CPU of its own (``serve --cpu-affinity auto``, the default).

Why: a serving process is bound by the interpreter lock (one thread runs Python at a time) and
hands it between its threads several times per request (the event loop, the deciding threads,
the decision log's writer). When those threads sit on different CPUs, every hand-off moves the
interpreter's working set from one CPU's cache to the other's and wakes a thread across CPUs.
Kept on one CPU, the same process did the same work with 13-29% less CPU per request in
session 12's runs (BENCHMARKS.md, "Cut in session 12"). The process can use no more than one
CPU's worth of Python anyway; the kernel's own work for it (fsync, sockets) then runs on that
CPU too.

How: a process claims a CPU by taking an exclusive ``flock`` on ``cpu-N.lock`` in a folder of
this user's (:func:`slots_folder`), held until it exits (the kernel releases it on any exit,
kill -9 included), then pins all its threads to that CPU. Each ``--workers`` process, and each
server started separately on the same machine by the same user, so takes a different CPU. A
process that finds every CPU of its allowed set taken (more processes than CPUs; or, during a
SIGHUP restart of the workers, the new worker before the old one has gone) runs where the kernel
puts it, and tries again every :data:`RETRY_SECONDS` until a CPU comes free.

Linux only (``os.sched_setaffinity``); elsewhere, and with a single allowed CPU, nothing is done.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import stat
import tempfile
import threading
from pathlib import Path

log = logging.getLogger("uvicorn.error")  # where uvicorn logs, so in the same output

RETRY_SECONDS = 2.0
"""How often a process that found no free CPU tries again."""

_held: list[int] = []
"""The descriptor of the claimed CPU's lock file, kept open for the life of the process."""


def slots_folder() -> Path:
    """``$TMPDIR/nocert-rules-cpus-<uid>``: where the serving processes of this user claim CPUs."""
    return Path(tempfile.gettempdir()) / f"nocert-rules-cpus-{os.getuid()}"


def _own_folder(folder: Path) -> bool:
    """Create ``folder`` (mode 0700) if need be; True only if it is a real folder of this user's
    that no one else may write to (a folder planted by another user, or a symlink, is not used)."""
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    info = folder.lstat()
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o022


def _claim(folder: Path, cpus: list[int]) -> int | None:
    """The first CPU of ``cpus`` whose lock file no other process holds, now held; or None."""
    for cpu in cpus:
        fd = os.open(folder / f"cpu-{cpu}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        _held.append(fd)
        return cpu
    return None


def _pin_all_threads(cpu: int) -> None:
    """Every thread of this process on ``cpu`` (threads started later inherit it)."""
    for tid in os.listdir("/proc/self/task"):
        with contextlib.suppress(ProcessLookupError):  # a thread that has just ended
            os.sched_setaffinity(int(tid), {cpu})


def _try(folder: Path, cpus: list[int]) -> bool:
    cpu = _claim(folder, cpus)
    if cpu is None:
        return False
    _pin_all_threads(cpu)
    log.info("进程 %d 固定在 CPU %d / process %d pinned to CPU %d", os.getpid(), cpu, os.getpid(), cpu)
    return True


def _retry(folder: Path, cpus: list[int], stop: threading.Event) -> None:
    while not stop.wait(RETRY_SECONDS):
        try:
            if _try(folder, cpus):
                return
        except OSError as exc:
            log.warning("无法固定 CPU / CPU not pinned: %s", exc)
            return


def pin_to_a_free_cpu(folder: Path | None = None) -> threading.Event | None:
    """Claim a CPU of this process's allowed set and pin the process to it (see the module doc).

    Returns None when the process is pinned, or when there is nothing to do (not Linux, one
    allowed CPU, already pinned, the folder not safe to use); else the event that stops the
    thread trying again (it is a daemon thread: it also ends with the process)."""
    if not hasattr(os, "sched_setaffinity") or _held:
        return None
    cpus = sorted(os.sched_getaffinity(0))
    folder = folder if folder is not None else slots_folder()
    if len(cpus) < 2:
        return None
    try:
        if not _own_folder(folder):
            log.warning("%s 不归本用户所有：不固定 CPU / not this user's own folder: CPU not pinned", folder)
            return None
        if _try(folder, cpus):
            return None
    except OSError as exc:
        log.warning("无法固定 CPU / CPU not pinned: %s", exc)
        return None
    log.info("没有空闲 CPU，暂不固定，每 %.0f 秒重试 / no free CPU: running unpinned, trying again every %.0f s",
             RETRY_SECONDS, RETRY_SECONDS)
    stop = threading.Event()
    threading.Thread(target=_retry, args=(folder, cpus, stop), name="cpu-affinity", daemon=True).start()
    return stop


__all__ = ["pin_to_a_free_cpu", "slots_folder", "RETRY_SECONDS"]

"""Output files that appear whole or not at all (``--out``, ``--report``).

The text goes to a temporary file in the target's folder (so the final rename stays on one file
system) and is renamed over the target only when the command succeeds. On failure or
interruption the temporary file is removed, or, if the user asked (``--keep-partial``), renamed
to ``<target>.partial``. A process killed outright (SIGKILL) leaves at most the hidden
temporary file ``.<name>.<random>.tmp``; the target is never half-written.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO


class AtomicOutput:
    """``with AtomicOutput(path) as f: ...``: ``path`` is replaced only if the block succeeds."""

    def __init__(self, path: str | Path, *, keep_partial: bool = False) -> None:
        self.path = Path(path)
        self.keep_partial = keep_partial
        self.partial_path: Path | None = None  # set when a partial file was kept
        self._file: IO[str] | None = None

    def open(self) -> IO[str]:
        folder = self.path.parent if str(self.path.parent) else Path(".")
        fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        self._tmp = Path(name)
        self._file = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        return self._file

    def commit(self) -> None:
        """Flush and rename the temporary file over the target."""
        assert self._file is not None
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self._tmp, self.path)
        self._file = None

    def abort(self) -> None:
        """Remove the temporary file, or keep it as ``<target>.partial`` if asked."""
        if self._file is None:
            return
        self._file.close()
        self._file = None
        if self.keep_partial:
            self.partial_path = self.path.with_name(self.path.name + ".partial")
            os.replace(self._tmp, self.partial_path)
        else:
            self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> IO[str]:
        return self.open()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if kind is None:
            self.commit()
        else:
            self.abort()

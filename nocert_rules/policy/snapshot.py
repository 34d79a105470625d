"""The exact ruleset, for another process or another machine: its files' bytes and sha256.

A parallel or distributed dry-run must decide with the very ruleset the run reports. A
:class:`RulesetSnapshot` names it by the manifest file it was loaded from and by its sha256
(over every file, ``ruleset._hash``), and can carry the files' bytes too. A worker calls
:meth:`RulesetSnapshot.load`: from the bytes when it has them (written to a private temporary
folder, so a worker on another machine needs no shared disk), else from the manifest path; the
loaded ruleset's sha256 (and the worker's nocert-rules version) must equal the snapshot's, or
the worker refuses to start with :class:`RulesetMismatch`.
"""

from __future__ import annotations

import importlib.metadata
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from nocert_rules.errors import NocertError

if TYPE_CHECKING:
    from nocert_rules.policy.loaded import Ruleset


class RulesetMismatch(NocertError):
    """A worker cannot reproduce the exact ruleset (changed files, another version): it refuses."""

    exit_code = 2  # the CLI's "unreadable ruleset"


def _version() -> str:
    try:
        return importlib.metadata.version("nocert-rules")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


@dataclass(frozen=True)
class RulesetSnapshot:
    """What a worker needs to load the same ruleset: path, sha256, optionally the bytes."""

    manifest_path: str
    manifest_file: str
    sha256: str
    version: str
    files: dict[str, bytes] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, ruleset: Ruleset, *, with_bytes: bool = False) -> RulesetSnapshot:
        """The snapshot of a loaded ruleset; ``with_bytes`` ships its files (for other machines)."""
        manifest = getattr(ruleset, "manifest_path", None) or ruleset.directory / "manifest.yaml"
        return cls(
            manifest_path=str(manifest),
            manifest_file=Path(manifest).name,
            sha256=ruleset.sha256,
            version=_version(),
            files=dict(ruleset.files) if with_bytes else None,
        )

    def load(self) -> Ruleset:
        """Load the ruleset and check it is the same one; raises :class:`RulesetMismatch`
        (or the ``RulesetError`` of a file that no longer loads)."""
        from nocert_rules.policy.loader import load_ruleset

        if self.version != _version():
            raise RulesetMismatch(
                f"工作进程的 nocert-rules 版本不同 / another version: the worker runs nocert-rules {_version()}, "
                f"the run was started with {self.version}: it refuses to decide"
            )
        if self.files is None:
            ruleset = load_ruleset(self.manifest_path)
            where = self.manifest_path
        else:
            folder = tempfile.TemporaryDirectory(prefix="nocert-ruleset-")
            root = Path(folder.name)
            for name, data in self.files.items():
                parts = PurePosixPath(name).parts
                if not parts or PurePosixPath(name).is_absolute() or ".." in parts:
                    folder.cleanup()
                    raise RulesetMismatch(f"{name}: 规则集文件不在目录内 / a ruleset file outside its folder")
                target = root.joinpath(*parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            try:
                ruleset = load_ruleset(root / self.manifest_file)
            except BaseException:
                folder.cleanup()
                raise
            ruleset._snapshot_folder = folder  # type: ignore[attr-defined]  # removed with the ruleset
            where = f"{self.manifest_file} (shipped bytes)"
        if ruleset.sha256 != self.sha256:
            raise RulesetMismatch(
                f"{where}: 规则集已改变，工作进程拒绝启动 / the ruleset is not the one the run loaded "
                f"(sha256 {ruleset.sha256[:12]}…, expected {self.sha256[:12]}…): the worker refuses to start"
            )
        return ruleset


__all__ = ["RulesetMismatch", "RulesetSnapshot"]

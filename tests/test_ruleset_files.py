"""Loading stage 1 (policy/files.py): every ruleset file is checked before it is read (issue 25 row 4).

A file must resolve (symbolic links followed) inside its ruleset folder or a folder of its
``extends:`` chain; a FIFO, socket or device is an error, not "absent"; a file above the size cap
is refused from its ``stat``, without being opened.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from ruleset_factory import TEMPLATE, write_ruleset

from nocert_rules import RulesetError, load_ruleset
from nocert_rules.policy import files as files_stage
from nocert_rules.policy.files import MAX_FILE_BYTES, RulesetFolder, read_file

ROOT = Path(__file__).resolve().parent.parent
ZIBO = ROOT / "rulesets" / "zibo"
DISTRICT = ROOT / "rulesets" / "zibo-zhangdian"

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")


def refusal(path: Path, **kwargs: int) -> RulesetError:
    with pytest.raises(RulesetError) as caught:
        load_ruleset(path, **kwargs)
    return caught.value


def test_a_template_linked_out_of_the_folder_is_refused_naming_it(tmp_path: Path) -> None:
    rs = write_ruleset(tmp_path / "rs")
    secret = tmp_path / "outside.md"
    secret.write_text(TEMPLATE + "外部文件 / not part of the ruleset\n", encoding="utf-8")
    (rs / "templates" / "pledge.md").unlink()
    (rs / "templates" / "pledge.md").symlink_to(secret)
    err = refusal(rs)
    assert [(p.file, p.line) for p in err.problems] == [("templates/pledge.md", None)]
    assert "outside the ruleset folder" in err.problem and "规则集目录之外" in err.problem


def test_a_templates_folder_linked_out_is_refused(tmp_path: Path) -> None:
    rs = write_ruleset(tmp_path / "rs")
    outside = tmp_path / "elsewhere"
    shutil.move(str(rs / "templates"), outside)
    (rs / "templates").symlink_to(outside, target_is_directory=True)
    err = refusal(rs)
    assert err.file == "templates/pledge.md" and "outside the ruleset folder" in err.problem


def test_a_list_linked_out_is_refused_but_a_link_inside_the_folder_is_read(tmp_path: Path) -> None:
    rs = write_ruleset(tmp_path / "rs")
    outside = tmp_path / "certificates.yaml"
    shutil.move(str(rs / "certificates.yaml"), outside)
    (rs / "certificates.yaml").symlink_to(outside)
    assert refusal(rs).file == "certificates.yaml"
    # the same file moved into the folder and linked there: the real path decides, not the link
    (rs / "certificates.yaml").unlink()
    shutil.move(str(outside), rs / "lists.yaml")
    (rs / "certificates.yaml").symlink_to(rs / "lists.yaml")
    loaded = load_ruleset(rs)
    assert loaded.files["certificates.yaml"] == (rs / "lists.yaml").read_bytes()


def test_a_district_file_may_resolve_into_its_extends_chain_only(tmp_path: Path) -> None:
    city = shutil.copytree(ZIBO, tmp_path / "zibo")
    district = shutil.copytree(DISTRICT, tmp_path / "zibo-zhangdian")
    shared = tmp_path / "zibo" / "district-list.yaml"
    shutil.move(str(district / "certificates.yaml"), shared)
    (district / "certificates.yaml").symlink_to(shared)  # into the city's folder: allowed
    loaded = load_ruleset(district)
    assert loaded.parent is not None and loaded.parent.directory == city
    assert loaded.files["certificates.yaml"] == shared.read_bytes()
    assert {c.kind for c in loaded.overlay_changes} == {"add", "override", "withdraw"}
    outside = tmp_path / "district-list.yaml"
    shutil.move(str(shared), outside)
    (district / "certificates.yaml").unlink()
    (district / "certificates.yaml").symlink_to(outside)  # out of both: refused
    err = refusal(district)
    assert err.file == "certificates.yaml" and "outside the ruleset folder" in err.problem


@needs_fifo
@pytest.mark.parametrize("name", ["officers.yaml", "calendar_overrides.yaml", "adjustments.yaml",
                                  "complaint_rules.yaml"])
def test_a_fifo_in_place_of_an_optional_file_is_an_error_not_absent(tmp_path: Path, name: str) -> None:
    rs = write_ruleset(tmp_path / "rs")
    os.mkfifo(rs / name)
    err = refusal(rs)
    assert (err.file, err.line) == (name, None)
    assert err.problem == "is not a regular file (a FIFO, socket or device) / 不是普通文件（管道、套接字或设备）"


@needs_fifo
def test_a_fifo_in_place_of_the_list_is_refused_without_opening_it(tmp_path: Path) -> None:
    rs = write_ruleset(tmp_path / "rs")
    (rs / "certificates.yaml").unlink()
    os.mkfifo(rs / "certificates.yaml")  # opening it for reading would block until a writer came
    err = refusal(rs)
    assert err.file == "certificates.yaml" and "not a regular file" in err.problem


def test_a_file_over_the_cap_is_refused_from_its_size_before_it_is_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rs = write_ruleset(tmp_path / "rs")
    with open(rs / "certificates.yaml", "r+b") as handle:
        handle.truncate(2**30)  # 1 GiB, sparse: nothing is written, nothing may be read
    opened: list[str] = []
    real_open = os.open

    def watched(path: str | os.PathLike[str], flags: int, *args: int) -> int:
        opened.append(os.fspath(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(files_stage.os, "open", watched)
    err = refusal(rs)
    assert err.file == "certificates.yaml"
    assert err.problem == (f"is {2**30} bytes, more than the limit of {MAX_FILE_BYTES} bytes / "
                           f"文件过大（上限 {MAX_FILE_BYTES} 字节）")
    assert not any(p.endswith("certificates.yaml") for p in opened)


def test_the_cap_is_configurable_and_exact(tmp_path: Path) -> None:
    rs = write_ruleset(tmp_path / "rs")
    largest = max(p.stat().st_size for p in rs.rglob("*") if p.is_file())
    assert load_ruleset(rs, max_file_bytes=largest).sha256 == load_ruleset(rs).sha256
    err = refusal(rs, max_file_bytes=largest - 1)
    assert f"more than the limit of {largest - 1} bytes" in err.problem


def test_read_file_reads_no_more_than_the_cap_when_the_file_grows(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(b"a: 1\n")
    assert read_file(path, "f.yaml", 5) == b"a: 1\n"
    with pytest.raises(RulesetError, match="more than the limit of 4 bytes"):
        read_file(path, "f.yaml", 4)


def test_a_missing_file_is_absent_and_a_directory_is_an_error(tmp_path: Path) -> None:
    folder = RulesetFolder(tmp_path)
    assert folder.exists("nothing.yaml") is False
    (tmp_path / "sub").mkdir()
    with pytest.raises(RulesetError, match="is a directory, not a file"):
        folder.exists("sub")
    with pytest.raises(RulesetError, match="file not found / 文件不存在"):
        folder.read("nothing.yaml")
    (tmp_path / "dangling.yaml").symlink_to(tmp_path / "gone.yaml")
    assert folder.exists("dangling.yaml") is False


def test_a_socket_or_a_device_in_place_of_a_file_is_an_error(tmp_path: Path) -> None:
    import socket
    import stat

    rs = write_ruleset(tmp_path / "rs")
    if not hasattr(socket, "AF_UNIX"):
        pytest.skip("no unix sockets here")
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(rs / "officers.yaml"))
        err = refusal(rs)
        assert (err.file, err.problem) == ("officers.yaml", "is not a regular file (a FIFO, socket or device) / "
                                                            "不是普通文件（管道、套接字或设备）")
    finally:
        server.close()
    (rs / "officers.yaml").unlink()
    try:
        os.mknod(rs / "calendar_overrides.yaml", stat.S_IFCHR | 0o600, os.makedev(1, 3))  # /dev/null's numbers
    except (PermissionError, AttributeError, OSError):
        return  # no device nodes here (not root, or a restricted container): the socket case stands
    err = refusal(rs)
    assert err.file == "calendar_overrides.yaml" and "not a regular file" in err.problem

"""The write step: unchanged files are carried over as hard links, the others written afresh."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from sophia import write
from sophia.errors import OutputError


def _files(count: int, changed: int | None = None) -> dict[str, str]:
    return {
        f"env/ns{i % 7}/ConfigMap-c{i}.yaml": f"kind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n  v: '{2 if i == changed else 1}'\n"
        for i in range(count)
    }


def _tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in folder.rglob("*") if p.is_file()}


def _inodes(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_ino for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(write.tempfile, "tempdir", None)  # re-read TMPDIR
    return tmp_path / "dist"


def test_an_edit_recreates_only_the_files_it_changes(out: Path) -> None:
    write.write_tree(_files(200), out)
    before = _inodes(out)

    result = write.write_tree({**_files(200, changed=5), "env/new.yaml": "kind: X\n"}, out)

    after = _inodes(out)
    assert result.modified == ["env/ns5/ConfigMap-c5.yaml"] and result.added == ["env/new.yaml"]
    assert _tree(out) == {**_files(200, changed=5), "env/new.yaml": "kind: X\n"}
    assert after["env/ns5/ConfigMap-c5.yaml"] != before["env/ns5/ConfigMap-c5.yaml"]
    kept = {rel for rel in before if rel != "env/ns5/ConfigMap-c5.yaml"}
    assert {rel: after[rel] for rel in kept} == {rel: before[rel] for rel in kept}
    assert all((out / rel).stat().st_nlink == 1 for rel in after), "the old tree's links are gone"


_REAL_LINK = os.link


def _refuse(*_args: object) -> None:
    raise OSError(1, "Operation not permitted")


def _edit_then_link(source: str | Path, target: str | Path) -> None:
    Path(source).write_text("edited by someone else meanwhile\n")
    _REAL_LINK(source, target)


@pytest.mark.parametrize(
    "link", [_refuse, _edit_then_link], ids=["links-refused", "file-changed-after-the-comparison"]
)
def test_a_file_that_cannot_be_linked_as_it_was_is_written(
    out: Path, monkeypatch: pytest.MonkeyPatch, link: Callable[[str | Path, str | Path], None]
) -> None:
    """A filesystem refusing links, or a file edited between comparison and link: written, not linked."""
    write.write_tree(_files(100), out)
    monkeypatch.setattr(write.os, "link", link)
    write.write_tree(_files(100, changed=3), out)
    assert _tree(out) == _files(100, changed=3)


def test_a_write_failing_midway_leaves_the_old_tree(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write.write_tree(_files(300), out)
    real = Path.write_bytes
    calls: list[Path] = []

    def failing(path: Path, data: bytes) -> int:
        calls.append(path)
        if len(calls) == 150:
            raise OSError(28, "No space left on device")
        return real(path, data)

    monkeypatch.setattr(Path, "write_bytes", failing)
    with pytest.raises(OutputError, match="No space left on device"):
        write.write_tree({rel: text + "#\n" for rel, text in _files(300).items()}, out)
    assert len(calls) == 150, "the write did not stop at the first failure"
    assert _tree(out) == _files(300)


def test_a_symlink_in_the_old_tree_becomes_a_plain_file(out: Path, tmp_path: Path) -> None:
    """Linking a symlink would copy the link, not the file: resolved from the staging folder it
    points elsewhere, and writing through it would write outside the output."""
    files = _files(100)
    write.write_tree(files, out)
    real = tmp_path / "elsewhere" / "x.yaml"
    real.parent.mkdir()
    rel = "env/ns1/ConfigMap-c1.yaml"
    real.write_text(files[rel])
    (out / rel).unlink()
    (out / rel).symlink_to(os.path.relpath(real, (out / rel).parent))

    write.write_tree(_files(100, changed=3), out)

    assert not (out / rel).is_symlink()
    assert _tree(out) == _files(100, changed=3)
    assert real.read_text() == files[rel]


def test_a_file_whose_mode_changed_is_written_afresh(out: Path) -> None:
    files = _files(100)
    write.write_tree(files, out)
    fresh_mode = (out / "env/ns1/ConfigMap-c1.yaml").stat().st_mode & 0o777
    (out / "env/ns1/ConfigMap-c1.yaml").chmod(0o600)

    write.write_tree(_files(100, changed=3), out)

    assert (out / "env/ns1/ConfigMap-c1.yaml").stat().st_mode & 0o777 == fresh_mode

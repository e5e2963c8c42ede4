"""Writing: the only step that touches the output folder.

The whole tree is written into a staging folder outside the repository (the system temp folder
when it is on the same filesystem), then swapped with the output folder in one atomic
`renameat2(RENAME_EXCHANGE)`. So a run that fails, or is killed with SIGKILL at any moment, leaves
the previous output exactly as it was: either the old tree or the new one is in place, never a
mix, and files of removed services disappear with the old tree. A lock (outside the repository
too) keeps two synths of the same output from interleaving. The staging folder a killed run
leaves behind is named after its output folder and removed by the next run of that output.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import hashlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock, Timeout

from sophia.errors import OutputError

LOCK_TIMEOUT_SECONDS = 120.0
_RENAME_EXCHANGE = 2


@dataclass
class WriteResult:
    out: Path
    changed: bool
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)


def list_tree(folder: Path) -> list[str]:
    """Every file below `folder`, as posix paths relative to it."""
    if not folder.is_dir():
        return []
    return [Path(d, n).relative_to(folder).as_posix() for d, _dirs, files in os.walk(folder) for n in files]


def read_tree(folder: Path) -> dict[str, bytes]:
    """Every file below `folder`, as `{posix relative path: bytes}`."""
    out: dict[str, bytes] = {}
    if not folder.is_dir():
        return out
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(dirpath, name)
            out[path.relative_to(folder).as_posix()] = path.read_bytes()
    return out


def _key(out: Path) -> str:
    return hashlib.sha256(str(out.resolve()).encode()).hexdigest()[:16]


def lock_path(out: Path) -> Path:
    """The lock of one output folder: in the temp folder, keyed by the folder's absolute path."""
    folder = Path(tempfile.gettempdir(), "sophia-locks")
    folder.mkdir(mode=0o1777, exist_ok=True)
    return folder / f"{_key(out)}.lock"


def staging_prefix(out: Path) -> str:
    """Name prefix of the staging folders of one output folder (keyed like its lock)."""
    return f".sophia-staging-{_key(out)}-"


def _sweep_stale_staging(out: Path) -> None:
    """Remove staging folders a killed run of this output left behind.

    Only called while holding the output's lock, so no live run owns a folder with this prefix.
    """
    for stale in _staging_root(out).glob(staging_prefix(out) + "*"):
        shutil.rmtree(stale, ignore_errors=True)


def _check_writable(out: Path) -> None:
    parent = out.parent
    if not parent.is_dir():
        raise OutputError(f"cannot write {out}: its parent folder {parent} does not exist")
    if out.exists() and not out.is_dir():
        raise OutputError(f"cannot write {out}: it exists and is not a folder")
    for folder in (parent, out):
        if folder.exists():
            mode = folder.stat().st_mode
            if not mode & stat.S_IWUSR or not os.access(folder, os.W_OK):
                raise OutputError(
                    f"cannot write {out}: {folder} is read-only (mode {stat.filemode(mode)}); "
                    "make it writable and run again"
                )


def _staging_root(out: Path) -> Path:
    tmp = Path(tempfile.gettempdir())
    try:
        if tmp.stat().st_dev == out.parent.stat().st_dev:
            return tmp
    except OSError:
        pass
    return out.parent  # another filesystem: stage beside the output (hidden, git-ignored)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2); False where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd = -100
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL):
        return False
    raise OSError(err, os.strerror(err), str(b))


def write_tree(
    files: dict[str, str],
    out: Path,
    *,
    on_wait: Callable[[str], None] | None = None,
    timeout: float = LOCK_TIMEOUT_SECONDS,
) -> WriteResult:
    """Make `out` hold exactly `files`, atomically. Returns what changed."""
    out = out.absolute()
    _check_writable(out)
    lock = FileLock(str(lock_path(out)))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if on_wait is not None:
            on_wait(f"waiting for another sophia synth that is writing {out} (lock {lock.lock_file})")
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise OutputError(
                f"gave up after {timeout:.0f} s: another sophia synth is still writing {out} "
                f"(lock {lock.lock_file})"
            ) from None
    try:
        return _swap_in(files, out)
    finally:
        lock.release()


def _swap_in(files: dict[str, str], out: Path) -> WriteResult:
    _sweep_stale_staging(out)
    # Compare file by file, so the old tree is never held in memory whole.
    current = set(list_tree(out))
    modified = []
    for path in sorted(set(files) & current):
        if (out / path).read_bytes() != files[path].encode():
            modified.append(path)
    result = WriteResult(
        out=out,
        changed=bool(modified) or current != set(files),
        added=sorted(set(files) - current),
        removed=sorted(current - set(files)),
        modified=modified,
    )
    if not result.changed and out.is_dir():
        return result
    staging = Path(tempfile.mkdtemp(prefix=staging_prefix(out), dir=_staging_root(out)))
    try:
        new = staging / "new"
        new.mkdir()
        file_mode = 0o666 & stat.S_IMODE(new.stat().st_mode)  # 0o777 less the umask, as for a new file
        for folder in sorted({(new / rel).parent for rel in files}):
            folder.mkdir(parents=True, exist_ok=True)
        unchanged = set(files) & current - set(modified)
        _write_files(new, {rel: text for rel, text in files.items() if rel not in unchanged})
        _link_files(out, new, unchanged, files, file_mode)
        mode = out.stat().st_mode & 0o7777 if out.is_dir() else 0o755
        os.chmod(new, mode)
        if out.is_dir():
            if not _exchange(new, out):
                old = staging / "old"
                os.rename(out, old)
                os.rename(new, out)
        else:
            os.rename(new, out)
    except OSError as exc:
        raise OutputError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return result


def _write_files(root: Path, files: dict[str, str]) -> None:
    """Write every file below `root` (its folders exist)."""
    for rel, text in sorted(files.items()):
        (root / rel).write_bytes(text.encode())


def _link_files(old: Path, new: Path, unchanged: set[str], files: dict[str, str], file_mode: int) -> None:
    """Hard-link the files whose bytes did not change from the old tree into the new one.

    A link allocates no inode, and the old tree's deletion then frees none: an edit that changes
    one service re-creates only that service's files (creating files is what a synth's write
    step spends its time on). Only a regular file of ours with the mode a new file would get is
    linked, so the new tree is the same as if written: a symlink, another owner's file or a
    changed mode is written afresh, and so is a file refused a link (another filesystem) or
    changed since it was compared.
    """
    uid = os.getuid()
    for rel in sorted(unchanged):
        source, target = old / rel, new / rel
        data = files[rel].encode()
        try:
            found = os.lstat(source)
            if stat.S_ISREG(found.st_mode) and stat.S_IMODE(found.st_mode) == file_mode and found.st_uid == uid:
                os.link(source, target)
                if target.read_bytes() == data:  # read after linking: nothing changed it since the comparison
                    continue
        except OSError:
            pass
        target.unlink(missing_ok=True)
        target.write_bytes(data)

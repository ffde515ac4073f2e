"""Safe writes: files through a temporary file and ``os.replace``, folders staged and swapped.

Files keep the permission bits of the file they replace, and new files get the process's
umask (as ``open`` would give them), so a team folder stays readable by the team.

Folders (:func:`staged_directory`, :func:`publish_directory`) are built beside their target
under a recognisable name, ``.NAME.partial-XXXX``, and swapped into place only when
complete. An existing target is replaced only when a check provided by the caller says it
may be; a symbolic link is never followed. A run that is killed leaves either the old or
the new folder complete, and the next run of the same target cleans up its leftovers (and
puts the old folder back if a kill fell between the two renames of the fallback swap).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import stat
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from toolkit.errors import ToolkitError

try:  # POSIX; elsewhere liveness falls back to the recorded process id
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["atomic_write_text", "atomic_write_bytes", "atomic_write_npy", "OutputExistsError",
           "OutputWriteError", "staged_directory", "publish_directory", "clean_stale_stages",
           "STAGE_MARKER"]

#: File inside each staging folder: names the owner; locked while the owner lives.
STAGE_MARKER = ".slr-stage"
_BUILD = "build"
_OLD = "old"
_UMASK_LOCK = threading.Lock()


class OutputExistsError(ToolkitError, FileExistsError):
    """A write would replace an existing file and the caller did not allow it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(
            f"{path}: file exists and would be replaced; pass overwrite=True (--force on the "
            "command line) or choose another path"
        )


class OutputWriteError(ToolkitError, OSError):
    """The operating system refused a write (no space, no permission, not a folder...)."""

    def __init__(self, path: Path, err: OSError) -> None:
        self.path = path
        reason = err.strerror or type(err).__name__
        hint = {errno.ENOSPC: "free some disk space and run again",
                errno.EDQUOT: "free some disk space and run again",
                errno.EACCES: "choose a folder you may write to",
                errno.EPERM: "choose a folder you may write to",
                errno.EROFS: "choose a folder on a writable disk",
                errno.ENOTDIR: "a part of the path is a file, not a folder; choose another path",
                errno.EISDIR: "a folder has that name; choose a file name",
                }.get(err.errno or 0, "check the path and run again")
        super().__init__(f"{path}: cannot write ({reason}); {hint}")
        self.errno = err.errno  # OSError's attribute, for callers that test it


def _umask() -> int:
    """Return the process's umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _UMASK_LOCK:  # elsewhere: set and restore (the only portable way)
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _mode_for(path: Path, default: int) -> int:
    """Permission bits for a new version of ``path``: those of the old one, else the umask's."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return default & ~_umask()


def atomic_write_bytes(path: str | Path, data: bytes, *, overwrite: bool = True) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new, never half.

    A replaced file keeps its permission bits; a new file gets ``0o666`` less the umask.

    Parameters
    ----------
    path : str or Path
        Target file; its folder is created if needed.
    data : bytes
        Content.
    overwrite : bool, default True
        When False and ``path`` exists, raise :class:`OutputExistsError`. The check and the
        final rename use ``os.link`` semantics where possible, so two writers cannot both win.

    Returns
    -------
    Path
        The written path.

    Raises
    ------
    OutputExistsError
        When ``path`` exists and ``overwrite`` is False.
    OutputWriteError
        When the system refuses the write (disk full, no permission, a file where a folder
        should be), with what to do; the temporary file is removed.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputWriteError(path, IsADirectoryError(errno.EISDIR, "is a folder"))
    try:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError:  # a file sits where a folder of the path should be
            raise NotADirectoryError(errno.ENOTDIR, "not a folder") from None
        if not overwrite and path.exists():
            raise OutputExistsError(path)
        mode = _mode_for(path, 0o666) if overwrite else 0o666 & ~_umask()
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OutputExistsError:
        raise
    except OSError as err:
        raise OutputWriteError(path, err) from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails if path appeared meanwhile
            except FileExistsError:
                raise OutputExistsError(path) from None
            tmp.unlink()
    except OutputExistsError:
        raise
    except OSError as err:
        raise OutputWriteError(path, err) from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def atomic_write_text(path: str | Path, text: str, *, overwrite: bool = True,
                      encoding: str = "utf-8") -> Path:
    """Write text atomically; see :func:`atomic_write_bytes`."""
    return atomic_write_bytes(path, text.encode(encoding), overwrite=overwrite)


def atomic_write_npy(path: str | Path, array: object) -> Path:
    """Write a NumPy array as ``.npy`` (no pickled objects), atomically."""
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return atomic_write_bytes(path, buffer.getvalue())


# --- folders ------------------------------------------------------------------------------


def _target(path: str | Path) -> Path:
    """Absolute target path with a resolved parent; refuse links and nameless paths."""
    raw = Path(os.path.abspath(path))
    if not raw.name or raw.name in (".", ".."):
        raise ToolkitError(f"{path}: not a usable output folder name; name a folder, e.g. "
                           "out/")
    if raw.is_symlink():
        raise ToolkitError(f"{raw}: is a symbolic link; links are never followed for output "
                           "folders (so nothing they point at is replaced); give a real path")
    return raw.parent.resolve() / raw.name


def _stages(target: Path) -> list[Path]:
    prefix = f".{target.name}.partial-"
    try:
        return sorted(p for p in target.parent.iterdir()
                      if p.name.startswith(prefix) and p.is_dir() and not p.is_symlink())
    except OSError:
        return []


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (a directory fd) while publishing or cleaning."""
    fd = None
    if fcntl is not None:
        try:
            fd = os.open(folder, os.O_RDONLY)
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:  # a file system without locks: go on unlocked
            if fd is not None:
                os.close(fd)
            fd = None
    try:
        yield
    finally:
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _pid_alive(pid: int) -> bool:  # pragma: no cover - used where flock is missing
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _claim_if_abandoned(stage: Path) -> int | None:
    """Return a locked fd on the stage's marker if its owner is gone, else None.

    Only folders that carry the marker (so were made by :func:`staged_directory`) qualify;
    a live owner holds a lock on the marker for as long as it runs.
    """
    marker = stage / STAGE_MARKER
    if marker.is_symlink() or not marker.is_file():
        return None
    try:
        fd = os.open(marker, os.O_RDONLY)
    except OSError:
        return None
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except OSError:
            os.close(fd)
            return None
    try:  # pragma: no cover - no flock: trust the recorded process id
        owner = json.loads(marker.read_text(encoding="utf-8")).get("pid")
    except (OSError, ValueError, AttributeError):
        owner = None
    if isinstance(owner, int) and owner != os.getpid() and _pid_alive(owner):
        os.close(fd)
        return None
    return fd


def _restore_old(old: Path, target: Path) -> None:
    """Put a folder moved aside back in place when nothing replaced it."""
    if old.is_dir() and not old.is_symlink() and not os.path.lexists(target):
        os.rename(old, target)


def clean_stale_stages(target: str | Path) -> list[Path]:
    """Remove what killed runs left beside ``target``; restore an old folder if needed.

    Only ``.NAME.partial-*`` folders that carry :data:`STAGE_MARKER` and whose owner is no
    longer running are touched. If a run was killed between the two renames of the
    fallback swap (target moved aside, new folder not yet in place), the old folder is put
    back first.

    Returns
    -------
    list of Path
        The staging folders removed.
    """
    target = _target(target)
    removed = []
    with _locked(target.parent):
        for stage in _stages(target):
            fd = _claim_if_abandoned(stage)
            if fd is None:
                continue
            try:
                _restore_old(stage / _OLD, target)
                shutil.rmtree(stage, ignore_errors=True)
                removed.append(stage)
            finally:
                os.close(fd)
    return removed


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _check_target(target: Path, replace: Callable[[Path], None] | None) -> None:
    if target.is_symlink():
        raise ToolkitError(f"{target}: is a symbolic link; links are never followed for "
                           "output folders; give a real path")
    if not target.exists():
        return
    if not target.is_dir():
        raise ToolkitError(f"{target}: exists and is not a folder; choose another path")
    if replace is not None:
        replace(target)
    elif any(target.iterdir()):
        raise ToolkitError(f"{target}: exists and is not empty; choose another path or move "
                           "its files away")


def publish_directory(build: str | Path, target: str | Path, *,
                      replace: Callable[[Path], None] | None = None) -> Path:
    """Move a finished folder into place, replacing ``target`` in one step where possible.

    Parameters
    ----------
    build : str or Path
        The finished folder; it must sit on the same file system as ``target`` (in
        practice: inside a folder made by :func:`staged_directory`).
    target : str or Path
        Where the folder goes. A symbolic link is refused, never followed.
    replace : callable, optional
        Called with an existing, non-empty ``target`` just before it is replaced; it raises
        (a :class:`~toolkit.errors.ToolkitError` naming what it found) when the folder may
        not be replaced. Without it, only a missing or empty target is replaced.

    Returns
    -------
    Path
        ``target``. The replaced folder has been deleted.

    Raises
    ------
    ToolkitError
        When ``target`` is a symbolic link, a file, or refused by ``replace``.
    OutputWriteError
        When a rename fails; ``target`` is then left as it was.

    Notes
    -----
    On Linux the two folders are exchanged by one ``renameat2(RENAME_EXCHANGE)``: readers
    see the old folder or the new, never neither. Elsewhere (or on file systems without
    it) the old folder is renamed into the staging folder first and the new one renamed
    into place; a kill between the two leaves both complete, and
    :func:`clean_stale_stages` (run by the next :func:`staged_directory` of the same target)
    puts the old one back. The old folder keeps its permission bits on the new one.
    """
    build, target = Path(build), _target(target)
    with _locked(target.parent):
        _check_target(target, replace)
        try:
            if not target.exists():
                os.rename(build, target)
                return target
            os.chmod(build, stat.S_IMODE(os.stat(target).st_mode))
            if _exchange(build, target):
                aside = build  # the old folder now sits where the new one was built
            else:
                aside = build.parent / _OLD
                os.rename(target, aside)
                try:
                    os.rename(build, target)
                except BaseException:
                    os.rename(aside, target)
                    raise
        except OSError as err:
            raise OutputWriteError(target, err) from None
    shutil.rmtree(aside, ignore_errors=True)
    return target


@contextlib.contextmanager
def staged_directory(target: str | Path, *,
                     replace: Callable[[Path], None] | None = None) -> Iterator[Path]:
    """Build a folder beside ``target`` and publish it only if the block ends without error.

    Parameters
    ----------
    target : str or Path
        The folder to create or replace (see :func:`publish_directory` for ``replace``).
        It is checked before the block runs (so a long job fails fast) and again just
        before it is replaced.
    replace : callable, optional
        Decides whether an existing, non-empty target may be replaced (raise if not).

    Yields
    ------
    Path
        An empty folder to fill, on the target's file system, with the permission bits a
        new folder gets under the umask.

    Raises
    ------
    ToolkitError
        When ``target`` is a symbolic link, a file, or a folder ``replace`` refuses.
    OutputWriteError
        When the staging folder cannot be made (no permission, no space...).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> base = Path(tempfile.mkdtemp())
    >>> with staged_directory(base / "out") as work:
    ...     _ = (work / "a.txt").write_text("done")
    >>> sorted(p.name for p in base.iterdir())
    ['out']
    """
    target = _target(target)
    _check_target(target, replace)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_stages(target)
        stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    except OSError as err:
        raise OutputWriteError(target, err) from None
    fd = None
    try:
        marker = stage / STAGE_MARKER
        marker.write_text(json.dumps({"pid": os.getpid(), "target": target.name}),
                          encoding="utf-8")
        fd = os.open(marker, os.O_RDONLY)
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        build = stage / _BUILD
        build.mkdir()  # mode 0o777 less the umask, unlike mkdtemp's 0o700
        yield build
        publish_directory(build, target, replace=replace)
    finally:
        _restore_old(stage / _OLD, target)
        shutil.rmtree(stage, ignore_errors=True)
        if fd is not None:
            os.close(fd)

"""Safe writes: permission bits kept, folders swapped whole, leftovers of killed runs cleaned."""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from toolkit import _io
from toolkit._io import (
    STAGE_MARKER,
    OutputWriteError,
    atomic_write_text,
    clean_stale_stages,
    publish_directory,
    staged_directory,
)
from toolkit.errors import ToolkitError

PROJECT = Path(__file__).resolve().parents[1]
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits and signals")


@pytest.fixture
def umask_002() -> None:
    previous = os.umask(0o002)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@posix_only
def test_new_files_follow_the_umask(tmp_path: Path, umask_002: None) -> None:
    assert _mode(atomic_write_text(tmp_path / "new.csv", "a\n")) == 0o664


@posix_only
def test_a_replaced_file_keeps_its_mode(tmp_path: Path, umask_002: None) -> None:
    path = tmp_path / "shared.csv"
    path.write_text("old\n")
    os.chmod(path, 0o664)
    atomic_write_text(path, "new\n")
    assert _mode(path) == 0o664 and path.read_text() == "new\n"
    os.chmod(path, 0o640)
    atomic_write_text(path, "newer\n")
    assert _mode(path) == 0o640


@posix_only
def test_staged_folders_follow_the_umask_and_keep_a_replaced_folders_mode(
        tmp_path: Path, umask_002: None) -> None:
    with staged_directory(tmp_path / "out") as work:
        (work / "a.txt").write_text("1")
    assert _mode(tmp_path / "out") == 0o775
    os.chmod(tmp_path / "out", 0o750)
    with staged_directory(tmp_path / "out", replace=lambda folder: None) as work:
        (work / "b.txt").write_text("2")
    assert _mode(tmp_path / "out") == 0o750
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["b.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_disk_full_is_one_clear_error_and_leaves_no_temporary_file(tmp_path: Path,
                                                                    monkeypatch) -> None:
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputWriteError, match=r"No space left on device\); free some disk"):
        atomic_write_text(tmp_path / "a.txt", "x")
    assert list(tmp_path.iterdir()) == []


def test_a_file_in_the_way_of_a_folder_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputWriteError, match="cannot write"):
        atomic_write_text(tmp_path / "file" / "a.txt", "x")


def test_symlinks_are_refused_not_followed(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "precious.txt").write_text("keep")
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(ToolkitError, match="symbolic link"), \
            staged_directory(tmp_path / "link", replace=lambda folder: None):
        pytest.fail("the block must not run")
    with pytest.raises(ToolkitError, match="symbolic link"):
        publish_directory(tmp_path / "real", tmp_path / "link")
    assert (real / "precious.txt").read_text() == "keep"


def test_a_folder_is_replaced_only_when_allowed(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(ToolkitError, match="not empty"), staged_directory(target):
        pytest.fail("the block must not run")

    def refuse(folder: Path) -> None:
        raise ToolkitError(f"{folder}: not ours")

    with pytest.raises(ToolkitError, match="not ours"), staged_directory(target,
                                                                          replace=refuse):
        pytest.fail("the block must not run")
    assert (target / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_failed_build_leaves_the_old_folder_and_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with staged_directory(target) as work:
        (work / "v1.txt").write_text("1")
    with pytest.raises(RuntimeError), staged_directory(target, replace=lambda f: None) as work:
        (work / "v2.txt").write_text("2")
        raise RuntimeError("stage failed")
    assert [p.name for p in target.iterdir()] == ["v1.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_the_fallback_swap_restores_the_old_folder_when_interrupted(tmp_path: Path,
                                                                    monkeypatch) -> None:
    target = tmp_path / "out"
    with staged_directory(target) as work:
        (work / "v1.txt").write_text("1")
    monkeypatch.setattr(_io, "_exchange", lambda a, b: False)
    real_rename = os.rename

    def interrupted(src: object, dst: object) -> None:
        if Path(src).name == "build":
            raise KeyboardInterrupt
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", interrupted)
    with pytest.raises(KeyboardInterrupt), staged_directory(target,
                                                            replace=lambda f: None) as work:
        (work / "v2.txt").write_text("2")
    assert [p.name for p in target.iterdir()] == ["v1.txt"]
    monkeypatch.setattr(os, "rename", real_rename)
    with staged_directory(target, replace=lambda f: None) as work:  # the fallback swap works
        (work / "v2.txt").write_text("2")
    assert [p.name for p in target.iterdir()] == ["v2.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


_CHILD = textwrap.dedent("""
    import os, signal, sys, time
    from pathlib import Path
    from toolkit import _io
    target, when = Path(sys.argv[1]), sys.argv[2]
    def die():
        os.kill(os.getpid(), signal.SIGKILL)
    if when == "between-renames":
        _io._exchange = lambda a, b: False
        real = os.rename
        def rename(src, dst):
            real(src, dst)
            if Path(dst).name == "old":
                die()
        os.rename = rename
    if when == "after-exchange":
        real_rmtree = _io.shutil.rmtree
        def rmtree(path, *args, **kwargs):
            die()
        _io.shutil.rmtree = rmtree
    with _io.staged_directory(target, replace=lambda folder: None) as work:
        (work / "new.txt").write_text("new")
        if when == "during-build":
            die()
        if when == "alive":
            print("ready", flush=True)
            time.sleep(60)
""")


def _run_child(target: Path, when: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    return subprocess.run([sys.executable, "-c", _CHILD, str(target), when], env=env,
                          capture_output=True, text=True, timeout=120)


@posix_only
@pytest.mark.parametrize("when", ["during-build", "between-renames", "after-exchange"])
def test_a_killed_run_leaves_one_complete_folder_and_the_next_run_cleans_up(
        tmp_path: Path, when: str) -> None:
    target = tmp_path / "out"
    with staged_directory(target) as work:
        (work / "old.txt").write_text("old")
    result = _run_child(target, when)
    assert result.returncode == -signal.SIGKILL, result.stderr
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "out"]
    assert leftovers and all(n.startswith(".out.partial-") for n in leftovers)
    if when == "between-renames":  # old moved aside, new not yet in place: both complete
        assert not target.exists()
    else:
        assert [p.name for p in target.iterdir()] == (
            ["new.txt"] if when == "after-exchange" else ["old.txt"])
    removed = clean_stale_stages(target)
    assert [p.name for p in removed] == leftovers
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert [p.name for p in target.iterdir()] == (
        ["new.txt"] if when == "after-exchange" else ["old.txt"])


@posix_only
def test_a_live_runs_stage_and_foreign_lookalikes_are_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "out"
    lookalike = tmp_path / ".out.partial-notours"
    lookalike.mkdir()
    (lookalike / "data.txt").write_text("someone else's")
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(target), "alive"], env=env,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        live = [p for p in tmp_path.iterdir() if p.name.startswith(".out.partial-")
                and (p / STAGE_MARKER).exists()]
        assert len(live) == 1
        assert clean_stale_stages(target) == []
        assert live[0].is_dir() and (lookalike / "data.txt").is_file()
    finally:
        child.kill()
        child.wait()
    assert clean_stale_stages(target) == live
    assert (lookalike / "data.txt").is_file()


def test_nameless_targets_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ToolkitError, match="not a usable output folder"), \
            staged_directory("/"):
        pytest.fail("the block must not run")

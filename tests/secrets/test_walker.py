"""The early walk: the listing a forked walker sends is the listing of ``walk_paths``."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stormwatch.secrets.request import ScanRequest, early_walk
from stormwatch.secrets.sources import files
from stormwatch.secrets.sources.files import walk_paths
from stormwatch.secrets.sources.walker import CHUNK, WalkError, WalkProcess


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for n in range(CHUNK * 2 + 7):  # several messages
        folder = tmp_path / f"d{n % 13}" / f"e{n % 5}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{n}.txt").write_text("x" * n)
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    return tmp_path


def test_the_walker_lists_what_walk_paths_lists(tree: Path) -> None:
    roots = [tree, tree / "d1" / "e1" / "f1.txt"]
    with WalkProcess(roots) as walk:
        assert list(walk.items()) == list(walk_paths(roots))


def test_a_walker_that_dies_is_an_error(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def stuck(roots: list[Path]) -> Iterator[tuple[str, str, int]]:
        yield from [("a", "a", 1)] * (CHUNK + 1)  # one message out, then it hangs
        time.sleep(60)

    monkeypatch.setattr(files, "walk_paths", stuck)  # the forked walker inherits the patch
    with WalkProcess([tree]) as walk:
        items = walk.items()
        assert len([next(items) for _ in range(CHUNK)]) == CHUNK
        os.kill(walk.pid, signal.SIGKILL)
        with pytest.raises(WalkError):
            list(items)


def test_a_walk_left_unread_ends_with_its_context(tree: Path) -> None:
    with WalkProcess([tree]) as walk:
        next(iter(walk.items()))
    assert walk.fd == -1


def test_only_directory_scans_walk_early(tree: Path) -> None:
    assert early_walk(ScanRequest(paths=("-",))) is None
    assert early_walk(ScanRequest(paths=(str(tree),), history=True)) is None
    walk = early_walk(ScanRequest(paths=(str(tree),)))
    if (os.cpu_count() or 1) > 1:
        assert walk is not None
        walk.close()

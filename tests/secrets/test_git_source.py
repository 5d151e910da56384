"""Git sources against repositories built at test time (real git, no fakes)."""

from __future__ import annotations

import io
import os
import random
import subprocess
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path

import pytest

from stormwatch.secrets.model import Fragment, SkipNotice
from stormwatch.secrets.parallel import scan_history
from stormwatch.secrets.ruleset import builtin_rules, expand_template
from stormwatch.secrets.scanner import Scanner
from stormwatch.secrets.settings import ScanSettings
from stormwatch.secrets.sources.git import (
    GitSourceError,
    history_fragments,
    plan_history,
    staged_fragments,
)

DAY = 86_400
START = 1_600_000_000  # 2020-09-13T12:26:40Z


class Repo:
    """A throwaway repository with fixed identities and dates, so ids and order are stable."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.clock = START
        path.mkdir()
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.name", "Mira Testwright")
        self.git("config", "user.email", "mira@example.test")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str, when: int | None = None) -> str:
        env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
        if when is not None:
            env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"@{when} +0000"
        done = subprocess.run(
            ["git", *args], cwd=self.path, env=env, capture_output=True, check=True
        )
        return done.stdout.decode().strip()

    def write(self, name: str, content: str | bytes) -> None:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode() if isinstance(content, str) else content
        target.write_bytes(data)

    def commit(self, message: str, when: int | None = None) -> str:
        self.clock += DAY
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message, when=when or self.clock)
        return self.git("rev-parse", "HEAD")

    def side_commit(self, branch: str, name: str, content: str) -> str:
        """Commit ``name`` on a new branch off main's first commit; back on main afterwards."""
        self.write("base.txt", "base\n")
        self.commit("base")
        self.git("checkout", "-q", "-b", branch)
        self.write(name, content)
        side = self.commit(f"add {name}")
        self.git("checkout", "-q", "main")
        return side

    def blob(self, rev_path: str) -> str:
        return self.git("rev-parse", rev_path)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")


def fragments(items: Iterable[Fragment | SkipNotice]) -> dict[bytes, Fragment]:
    found: dict[bytes, Fragment] = {}
    for item in items:
        if isinstance(item, Fragment):
            assert item.data not in found, f"read twice: {item.origin}"
            found[item.data] = item
    return found


def notices(items: Iterable[Fragment | SkipNotice]) -> list[SkipNotice]:
    return [item for item in items if isinstance(item, SkipNotice)]


def test_deleted_file_is_blamed_on_the_commit_that_added_it(repo: Repo) -> None:
    repo.write("notes.txt", "meeting notes\n")
    first = repo.commit("add notes")
    repo.write("readme.md", "hello\n")
    repo.commit("readme")
    (repo.path / "notes.txt").unlink()
    repo.commit("drop notes")

    found = fragments(history_fragments(repo.path))

    notes = found[b"meeting notes\n"].origin
    assert (notes.path, notes.commit, notes.in_head) == ("notes.txt", first, False)
    assert (notes.author, notes.email) == ("Mira Testwright", "mira@example.test")
    assert notes.date == "2020-09-14T12:26:40+00:00"
    assert found[b"hello\n"].origin.in_head is True


def test_content_at_two_paths_is_read_once_under_its_first_path(repo: Repo) -> None:
    repo.write("b/copy.txt", "same words\n")
    repo.write("a/copy.txt", "same words\n")
    repo.commit("twins")
    repo.write("c/later.txt", "same words\n")
    repo.commit("a third copy")

    items = list(history_fragments(repo.path))
    found = fragments(items)

    assert (plan_history(repo.path).commits, len(items)) == (2, 1)
    assert found[b"same words\n"].origin.path == "a/copy.txt"


def test_moved_blob_keeps_its_introduction_and_counts_as_in_head(repo: Repo) -> None:
    repo.write("old/name.txt", "moving text\n")
    first = repo.commit("add")
    repo.git("mv", "old/name.txt", "new-name.txt")
    repo.commit("move")

    origin = fragments(history_fragments(repo.path))[b"moving text\n"].origin

    assert (origin.path, origin.commit, origin.in_head) == ("old/name.txt", first, True)


def test_commit_reachable_only_from_a_tag_is_scanned(repo: Repo) -> None:
    side = repo.side_commit("experiment", "idea.txt", "an abandoned idea\n")
    repo.git("tag", "kept-idea", "experiment")
    repo.git("branch", "-D", "experiment")

    origin = fragments(history_fragments(repo.path))[b"an abandoned idea\n"].origin

    assert (origin.commit, origin.in_head) == (side, False)


def test_side_branch_content_is_blamed_on_the_side_branch_not_the_merge(repo: Repo) -> None:
    side = repo.side_commit("feature", "feature.txt", "feature text\n")
    repo.write("main.txt", "main text\n")
    repo.commit("main moves on")
    repo.git("merge", "-q", "--no-commit", "feature")
    repo.write("merge-only.txt", "written while merging\n")
    merge = repo.commit("merge feature")

    found = fragments(history_fragments(repo.path))

    assert found[b"feature text\n"].origin.commit == side
    assert found[b"written while merging\n"].origin.commit == merge
    assert plan_history(repo.path).commits == 4


def test_earliest_committer_date_wins_over_walk_order(repo: Repo) -> None:
    repo.write("a.txt", "shared words\n")
    repo.commit("late", when=START + 100 * DAY)
    repo.git("checkout", "-q", "--orphan", "old-import")
    repo.git("rm", "-q", "-r", "-f", ".")
    repo.write("import/a.txt", "shared words\n")
    early = repo.commit("early", when=START + DAY)

    origin = fragments(history_fragments(repo.path))[b"shared words\n"].origin

    assert (origin.path, origin.commit) == ("import/a.txt", early)


def test_large_blob_is_chunked_with_exact_line_numbers(repo: Repo) -> None:
    lines = [f"line {n:05d} {'filler ' * (n % 13)}\n" for n in range(1, 6001)]
    repo.write("big.txt", "".join(lines))
    repo.commit("big")

    items = list(history_fragments(repo.path, ScanSettings(chunk_bytes=16 << 10)))
    chunks = [i for i in items if isinstance(i, Fragment)]

    assert len(chunks) > 5
    assert [c.unit for c in chunks] == [True] + [False] * (len(chunks) - 1)
    seen: set[int] = set()
    for chunk in chunks:
        assert chunk.data.startswith(f"line {chunk.line_offset + 1:05d} ".encode())
        numbers = [int(line.split()[1]) for line in chunk.data.decode().splitlines()]
        assert numbers == list(range(chunk.line_offset + 1, chunk.line_offset + 1 + len(numbers)))
        seen.update(numbers)
    assert seen == set(range(1, 6001))


def test_binary_blob_is_skipped_with_a_notice_and_archive_members_are_read(repo: Repo) -> None:
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("inside.txt", "packed text\n")
    repo.write("image.bin", b"\x89PNG\0\0\0data")
    repo.write("bundle.zip", packed.getvalue())
    commit = repo.commit("binaries")

    items = list(history_fragments(repo.path))

    assert [(n.location, n.reason) for n in notices(items)] == [(f"{commit}:image.bin", "binary")]
    member = fragments(items)[b"packed text\n"].origin
    assert (member.path, member.commit, member.in_head) == ("bundle.zip!inside.txt", commit, True)


def delete_object(repo: Repo, object_id: str) -> None:
    loose = repo.path / ".git" / "objects" / object_id[:2] / object_id[2:]
    loose.chmod(0o644)
    loose.unlink()


def test_missing_blob_is_a_notice_and_reading_goes_on(repo: Repo) -> None:
    repo.write("gone.txt", "soon gone\n")
    repo.write("kept.txt", "still here\n")
    commit = repo.commit("two files")
    delete_object(repo, repo.blob("HEAD:gone.txt"))

    items = list(history_fragments(repo.path))

    [notice] = notices(items)
    assert (notice.location, notice.reason) == (f"{commit}:gone.txt", "corrupt-object")
    assert set(fragments(items)) == {b"still here\n"}


@pytest.mark.parametrize(
    "stored",
    [
        pytest.param(b"not zlib at all", id="unreadable"),
        pytest.param(zlib.compress(b"blub 5\0short"), id="kills-cat-file"),
        pytest.param(zlib.compress(b"blob 100\0short"), id="shorter-than-its-header"),
    ],
)
def test_corrupt_blob_is_a_notice_and_reading_goes_on(repo: Repo, stored: bytes) -> None:
    names = ["a.txt", "b.txt", "c.txt", *(f"more/{n:03d}.txt" for n in range(600))]
    for name in names:
        repo.write(name, f"text of {name}\n")
    commit = repo.commit("many files")
    broken = repo.blob("HEAD:b.txt")
    delete_object(repo, broken)
    (repo.path / ".git" / "objects" / broken[:2] / broken[2:]).write_bytes(stored)

    items = list(history_fragments(repo.path))

    assert [(n.location, n.reason) for n in notices(items)] == [
        (f"{commit}:b.txt", "corrupt-object")
    ]
    assert set(fragments(items)) == {f"text of {n}\n".encode() for n in names if n != "b.txt"}


def test_missing_tree_stops_the_walk_with_a_notice_not_a_traceback(repo: Repo) -> None:
    repo.write("dir/file.txt", "nested\n")
    repo.commit("nested")
    delete_object(repo, repo.blob("HEAD:dir"))

    items = list(history_fragments(repo.path))

    assert "history-incomplete" in {n.reason for n in notices(items)}


def test_a_path_that_is_not_a_repository_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(GitSourceError, match="not a git repository"):
        history_fragments(tmp_path)
    with pytest.raises(GitSourceError, match="no such directory"):
        staged_fragments(tmp_path / "absent")


def test_repository_without_commits_has_no_history(repo: Repo) -> None:
    plan = plan_history(repo.path)

    assert (plan.commits, plan.head_blobs, plan.notices) == (0, frozenset(), ())
    assert list(history_fragments(repo.path)) == []


def test_staged_scan_reads_the_index_not_the_working_tree(repo: Repo) -> None:
    repo.write("kept.txt", "unchanged\n")
    repo.write("edited.txt", "first version\n")
    repo.write("removed.txt", "to be removed\n")
    repo.commit("start")
    repo.write("edited.txt", "staged version\n")
    repo.write("added.txt", "new file\n")
    repo.git("add", "edited.txt", "added.txt")
    repo.git("rm", "-q", "removed.txt")
    repo.write("edited.txt", "unstaged version\n")
    repo.write("untracked.txt", "never added\n")

    found = fragments(staged_fragments(repo.path))

    assert set(found) == {b"staged version\n", b"new file\n"}
    assert found[b"new file\n"].origin.path == "added.txt"
    assert found[b"new file\n"].origin.commit is None


def test_staged_scan_before_the_first_commit(repo: Repo) -> None:
    repo.write("first.txt", "first words\n")
    repo.git("add", "first.txt")

    assert set(fragments(staged_fragments(repo.path))) == {b"first words\n"}


def test_stopping_early_leaves_no_error(repo: Repo) -> None:
    for n in range(50):
        repo.write(f"f{n}.txt", f"file {n}\n")
    repo.commit("many")

    items = history_fragments(repo.path)
    assert isinstance(next(items), Fragment)
    del items  # the generator's cleanup stops cat-file


def test_history_batches_on_workers_find_what_one_reader_finds(repo: Repo) -> None:
    rules = builtin_rules()
    rng = random.Random(7)
    for n, rule in enumerate(r for r in rules.rules if r.reported and r.positive):
        repo.write(f"src/{rule.id}.py", expand_template(rule.positive[0], rng) + "\n")
        repo.write(f"docs/{n:03d}.md", f"note {n}\n")
        if n % 5 == 4:
            repo.commit(f"batch {n}")
    repo.write("dir/file.txt", "nested\n")
    repo.commit("last")
    delete_object(repo, repo.blob("HEAD:docs/003.md"))
    scanner = Scanner(rules, ScanSettings())

    one, shared = (scan_history([repo.path], scanner, workers=w, batch=3) for w in (1, 2))

    assert len(one.findings) >= 20
    assert set(shared.findings) == set(one.findings)
    assert sorted(shared.notices, key=repr) == sorted(one.notices, key=repr)
    assert (shared.stats.files, shared.stats.bytes) == (one.stats.files, one.stats.bytes)


@pytest.mark.parametrize("workers", [0, 2])
def test_history_stats_count_blobs_and_commits(repo: Repo, workers: int) -> None:
    """A history scan reads blobs, not files, and says how many commits it walked."""
    repo.write("a.txt", "one\n")
    repo.commit("first")
    repo.write("a.txt", "two\n")
    repo.write("b.txt", "three\n")
    repo.commit("second")
    repo.side_commit("idea", "c.txt", "four\n")
    commits = int(repo.git("rev-list", "--all", "--count"))

    result = scan_history([repo.path], Scanner(builtin_rules(), ScanSettings()), workers=workers)
    assert (result.stats.files, result.stats.blobs, result.stats.commits) == (0, 5, commits)

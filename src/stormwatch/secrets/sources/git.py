"""Git history and staged changes as fragments.

A history scan reads each unique blob once, whatever the number of commits and paths it appears
in, and attributes it to the commit that introduced it. Two processes do the work however long
the history, side by side: one ``git log`` walks every ref and lists, per commit, the blobs that
differ from its first parent; one ``git cat-file --batch`` streams each blob the first time the
walk meets it.

Attribution: a commit introduces a blob when its diff against its first parent (the empty tree
for a root) adds or changes a path to that blob. Merges are diffed against their first parent
too, so content written while merging is seen, while content brought in from a side branch was
introduced earlier on that branch, which ``--all`` walks too. The walk runs oldest first
(``git log --all --date-order --reverse``: by committer date, except that a parent always comes
before its children), and the first introducing commit met wins: the earliest by committer date,
the ancestor on clock skew, on equal dates git's order; within one commit, the first path in
git's byte order.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from stormwatch.secrets.model import Origin, SkipNotice
from stormwatch.secrets.settings import ScanSettings
from stormwatch.secrets.sources import GitSourceError
from stormwatch.secrets.sources.git_process import (
    PIPE_BUFFER,
    GitProcess,
    Item,
    Wanted,
    last_line,
    read_blobs,
    run_git,
)

__all__ = [
    "GitSourceError",
    "HistoryPlan",
    "Wanted",
    "history_batches",
    "history_fragments",
    "history_walk",
    "plan_history",
    "read_history",
    "staged_fragments",
]

_COMMIT_MARK = b"\x01"
_LOG_ARGS = (
    "log",
    "--all",
    "--date-order",
    "--reverse",
    "--raw",
    "-z",
    "--no-abbrev",
    "--no-renames",
    "--no-relative",
    "--encoding=UTF-8",
    "--diff-merges=first-parent",
    "--no-show-signature",
    "--format=%x01%H%x00%an%x00%ae%x00%aI",
)
_STAGED_ARGS = (
    "diff",
    "--cached",
    "--raw",
    "-z",
    "--no-abbrev",
    "--no-renames",
    "--no-relative",
    "--diff-filter=AMT",
)


@dataclass(frozen=True)
class HistoryPlan:
    """What a history scan will walk, known before it starts: the repository, how many commits
    its refs reach, the blobs in HEAD's tree, and what was found wrong on the way."""

    repo: Path
    commits: int
    head_blobs: frozenset[str]
    notices: tuple[SkipNotice, ...] = ()


class _Commit(NamedTuple):
    sha: str
    author: str
    email: str
    date: str


def history_fragments(repo: Path, settings: ScanSettings | None = None) -> Iterator[Item]:
    """Fragments of every blob in the history of all refs, each once, attributed to the commit
    that introduced it. Raises ``GitSourceError`` at once when ``repo`` cannot be read."""
    return read_history(plan_history(repo), settings)


def plan_history(repo: Path) -> HistoryPlan:
    """Check the repository and count what the walk will cover (quick: no diffs, no blobs; the
    count runs while HEAD's tree is listed)."""
    require_repository(repo)
    return _plan(repo)


@contextmanager
def history_walk(repo: Path) -> Iterator[tuple[HistoryPlan, GitProcess]]:
    """The plan of a history scan and the walk's ``git log``, started first: git spends its
    first moments ordering every commit, while the plan's own git calls run. Raises
    ``GitSourceError`` at once when ``repo`` cannot be read."""
    require_repository(repo)
    with GitProcess(repo, *_LOG_ARGS) as log:
        yield _plan(repo), log


def _plan(repo: Path) -> HistoryPlan:
    with GitProcess(repo, "rev-list", "--all", "--count") as counting:
        head, notices = _head_blobs(repo)
        counted = counting.stdout.read()
        # A history too broken to count is reported by the walk itself, as history-incomplete.
        failed = counting.complaint() is not None
    commits = 0 if failed or not counted.strip().isdigit() else int(counted)
    return HistoryPlan(repo, commits, head, notices)


def read_history(plan: HistoryPlan, settings: ScanSettings | None = None) -> Iterator[Item]:
    """The notices of the plan, then the fragments of every blob as the walk meets it, and a
    ``history-incomplete`` notice if the walk broke off (a missing commit or tree)."""
    yield from plan.notices
    with GitProcess(plan.repo, *_LOG_ARGS) as log:
        found = _introductions(_tokens(log.stdout), plan.head_blobs)
        yield from read_blobs(plan.repo, found, settings or ScanSettings())
        notice = _incomplete(plan, log.complaint())
    if notice is not None:
        yield notice


def history_batches(
    plan: HistoryPlan, log: GitProcess, size: int
) -> Iterator[list[Wanted] | SkipNotice]:
    """The blobs of the history with the origins of their introductions, as the walk ``log``
    (from ``history_walk``) meets them, in batches of ``size`` in the walk's order, each as soon
    as the walk reaches its last blob (so reading starts while the walk goes on); then the
    ``history-incomplete`` notice, if the walk broke off. Each batch suits one ``cat-file`` of
    its own: neighbours in the walk are mostly versions of the same files, stored as deltas of
    each other, so a batch resolves its delta chains about once."""
    found = _introductions(_tokens(log.stdout), plan.head_blobs)
    while batch := list(itertools.islice(found, size)):
        yield batch
    notice = _incomplete(plan, log.complaint())
    if notice is not None:
        yield notice


def _incomplete(plan: HistoryPlan, complaint: str | None) -> SkipNotice | None:
    """The notice for a walk that broke off (a missing commit or tree), if it did."""
    return (
        None if complaint is None else SkipNotice(str(plan.repo), "history-incomplete", complaint)
    )


def staged_fragments(repo: Path, settings: ScanSettings | None = None) -> Iterator[Item]:
    """Fragments of what the index would commit: files added or changed against HEAD, as staged
    (not as in the working tree). For a pre-commit hook."""
    require_repository(repo)
    listed = run_git(repo, *_STAGED_ARGS)
    if listed.returncode != 0:
        raise GitSourceError(f"{repo}: {last_line(listed.stderr, 'cannot list staged changes')}")
    tokens = iter(listed.stdout.split(b"\0"))
    changes = (_changed_blob(t, next(tokens, b"")) for t in tokens if t.startswith(b":"))
    staged = [(blob, Origin(path)) for blob, path in filter(None, changes)]
    return read_blobs(repo, staged, settings or ScanSettings())


def require_repository(repo: Path) -> None:
    """Raise ``GitSourceError`` unless git can open ``repo`` (a directory in a repository)."""
    if not repo.is_dir():
        raise GitSourceError(f"{repo}: no such directory")
    found = run_git(repo, "rev-parse", "--git-dir")
    if found.returncode != 0:
        reason = last_line(found.stderr, "git cannot open it")
        raise GitSourceError(f"{repo} is not a git repository ({reason})")


def _head_blobs(repo: Path) -> tuple[frozenset[str], tuple[SkipNotice, ...]]:
    """Ids of the blobs in HEAD's tree (none for a repository without commits)."""
    listed = run_git(repo, "ls-tree", "-r", "-z", "--full-tree", "HEAD")
    if listed.returncode != 0:
        if run_git(repo, "rev-parse", "--verify", "--quiet", "HEAD^{commit}").returncode != 0:
            return frozenset(), ()  # no commit yet: nothing is at HEAD
        detail = last_line(listed.stderr, "cannot list HEAD")
        return frozenset(), (SkipNotice("HEAD", "corrupt-object", detail),)
    entries = (line.split(b"\t", 1)[0].split(b" ") for line in listed.stdout.split(b"\0"))
    return frozenset(e[2].decode() for e in entries if len(e) == 3 and e[1] == b"blob"), ()


def _tokens(stream: io.BufferedReader) -> Iterator[bytes]:
    """The NUL-separated fields of a ``-z`` output, as soon as git writes them."""
    rest = b""
    while block := stream.read1(PIPE_BUFFER):
        fields = (rest + block).split(b"\0")
        rest = fields.pop()
        yield from fields
    if rest:
        yield rest


def _introductions(tokens: Iterator[bytes], head: frozenset[str]) -> Iterator[Wanted]:
    """Each blob with the origin of its introduction (see the module doc), the first time the
    walk's ``--raw -z`` output shows it."""
    seen: set[str] = set()
    commit: _Commit | None = None
    for token in tokens:
        token = token.lstrip(b"\n")
        if token.startswith(_COMMIT_MARK):
            commit = _commit(token[1:], tokens)
        elif token.startswith(b":") and commit is not None:
            changed = _changed_blob(token, next(tokens, b""))
            if changed is not None and changed[0] not in seen:
                blob, path = changed
                seen.add(blob)
                yield blob, Origin(path, *commit, in_head=blob in head)


def _commit(sha: bytes, tokens: Iterator[bytes]) -> _Commit | None:
    """A commit header in ``_LOG_ARGS``'s format (None if the output broke off inside it)."""
    fields = [sha, *itertools.islice(tokens, 3)]
    if len(fields) < 4:
        return None
    return _Commit(*(field.decode("utf-8", "replace") for field in fields))


def _changed_blob(raw: bytes, path: bytes) -> tuple[str, str] | None:
    """(blob id, path) of a ``--raw`` entry that leaves a file behind, else None (a deletion,
    a submodule)."""
    fields = raw.split(b" ")
    if len(fields) < 5 or fields[4].startswith(b"D") or fields[1] == b"160000":
        return None
    if not fields[3].strip(b"0"):
        return None
    return fields[3].decode(), path.decode("utf-8", "surrogateescape")

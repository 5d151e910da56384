"""Where scanned bytes come from: files and archives, stdin, staged changes, git history."""


class GitSourceError(Exception):
    """Git cannot read the path at all (not a repository, git missing): the scan cannot start.

    Defined here, not with the git code, so that the command can name it without loading
    ``subprocess`` on every scan."""

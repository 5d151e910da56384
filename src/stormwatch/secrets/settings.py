"""Scan settings (frozen, passed in) and the user's config file that feeds them.

A config is ``--config FILE``, else ``stormwatch.toml``, else ``[tool.stormwatch]`` in
``pyproject.toml`` (looked up in the scan root, then the working directory)::

    [[rules]]                      # extra rules, same format as the built-in rule files
    id = "acme-internal-llm-key"
    ...
    [allowlist]
    paths = ['(^|/)vendor/', '\\.lock$']         # regexes on the relative path
    regexes = ['^sk-proj-TESTING']                # regexes on the secret
    fingerprints = ["<sha256 fingerprint>", ...]  # as printed in findings
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stormwatch.secrets.ruleset import RuleError, RuleSet, SecretRule, parse_rules

DEFAULT_CHUNK = 8 << 20


class ConfigError(ValueError):
    """The config file is unreadable or invalid; the message says where."""


@dataclass(frozen=True)
class ScanSettings:
    """How to scan: engine, limits, and what the user allowed."""

    engine: str = "auto"
    max_decode_depth: int = 2
    max_archive_depth: int = 3
    max_archive_bytes: int = 256 << 20
    max_archive_ratio: int = 100
    chunk_bytes: int = DEFAULT_CHUNK
    allow_paths: tuple[re.Pattern[str], ...] = ()
    allow_secrets: tuple[re.Pattern[str], ...] = ()
    allow_fingerprints: frozenset[str] = frozenset()
    baseline: frozenset[str] = frozenset()


@dataclass(frozen=True)
class UserConfig:
    """What a config file adds: rules and allowlists."""

    rules: tuple[SecretRule, ...] = ()
    allow_paths: tuple[re.Pattern[str], ...] = ()
    allow_secrets: tuple[re.Pattern[str], ...] = ()
    allow_fingerprints: frozenset[str] = field(default_factory=frozenset)
    source: str | None = None

    def apply(self, ruleset: RuleSet, settings: ScanSettings) -> tuple[RuleSet, ScanSettings]:
        """The rule set and settings with this config's additions."""
        from dataclasses import replace

        return ruleset.extended(self.rules), replace(
            settings,
            allow_paths=settings.allow_paths + self.allow_paths,
            allow_secrets=settings.allow_secrets + self.allow_secrets,
            allow_fingerprints=settings.allow_fingerprints | self.allow_fingerprints,
        )


def find_config(roots: list[Path]) -> Path | None:
    """The config file that applies to a scan of ``roots`` (first match wins)."""
    for folder in [*(r if r.is_dir() else r.parent for r in roots), Path.cwd()]:
        if (folder / "stormwatch.toml").is_file():
            return folder / "stormwatch.toml"
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "[tool.stormwatch" in pyproject.read_text(errors="replace"):
            return pyproject
    return None


def load_config(path: Path) -> UserConfig:
    """Parse a config file (``stormwatch.toml`` or a pyproject with ``[tool.stormwatch]``)."""
    import tomllib

    try:
        document: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    if path.name == "pyproject.toml":
        document = document.get("tool", {}).get("stormwatch", {})
    allow = document.get("allowlist", {})
    try:
        return UserConfig(
            rules=tuple(parse_rules({"provider": "custom", **document}, str(path))),
            allow_paths=tuple(re.compile(p) for p in allow.get("paths", ())),
            allow_secrets=tuple(re.compile(p) for p in allow.get("regexes", ())),
            allow_fingerprints=frozenset(str(f) for f in allow.get("fingerprints", ())),
            source=str(path),
        )
    except (RuleError, re.error, AttributeError, TypeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc

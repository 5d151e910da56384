"""The rule catalog as a Markdown table, generated from the YAML rules for docs/rules.md.

``python -m stormwatch.detect.catalog docs/rules.md`` rewrites the table between the
``<!-- catalog:start -->`` and ``<!-- catalog:end -->`` markers; a test checks it is current.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from stormwatch.detect.loader import load_rules
from stormwatch.detect.rule import DetectionRule

START, END = "<!-- catalog:start -->", "<!-- catalog:end -->"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def catalog_table(rules: Iterable[DetectionRule]) -> str:
    """Markdown table: id, theme, severity, analytic, techniques, what it catches, false
    positives."""
    lines = [
        "| id | theme | severity | analytic | techniques | catches | false positives |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in sorted(rules, key=lambda r: (r.theme, r.id)):
        lines.append(
            f"| `{r.id}` | {r.theme} | {r.severity} | {r.analytic_type} | "
            f"{', '.join(r.techniques)} | {_cell(r.title)} | {_cell(r.false_positives)} |"
        )
    return "\n".join(lines)


def with_catalog(document: str, rules: Iterable[DetectionRule]) -> str:
    """``document`` with the table between the catalog markers replaced."""
    head, _, rest = document.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{catalog_table(rules)}\n{END}{tail}"


def main(argv: list[str]) -> int:
    """Rewrite the catalog table of the Markdown file named in ``argv``."""
    path = Path(argv[0])
    path.write_text(with_catalog(path.read_text(encoding="utf-8"), load_rules()), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

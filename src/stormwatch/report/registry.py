"""The one registry of report formats: a name on the command line to the writer that makes it.

Each writer's module loads when its format is asked for: a scan writes one format, and the
others (Rich for text, the CSV and SARIF modules) are start-up time it does not need.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from types import MappingProxyType

from stormwatch.report.writer import FindingWriter, WriterFactory, WriterOptions


def _loaded(module: str, name: str) -> WriterFactory:
    """A factory that imports ``stormwatch.report.<module>`` on first use and makes a ``name``."""

    def make(options: WriterOptions) -> FindingWriter:
        factory: WriterFactory = getattr(import_module(f"stormwatch.report.{module}"), name)
        return factory(options)

    return make


WRITERS: Mapping[str, WriterFactory] = MappingProxyType(
    {
        "text": _loaded("text_writer", "TextWriter"),
        "json": _loaded("json_writer", "JsonWriter"),
        "sarif": _loaded("sarif_writer", "SarifWriter"),
        "csv": _loaded("csv_writer", "CsvWriter"),
    }
)


def writer_for(name: str, options: WriterOptions) -> FindingWriter:
    """The writer registered under ``name``; ValueError naming the known formats otherwise."""
    try:
        factory = WRITERS[name]
    except KeyError:
        raise ValueError(
            f"unknown report format {name!r}; choose one of {', '.join(WRITERS)}"
        ) from None
    return factory(options)

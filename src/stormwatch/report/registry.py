"""The one registry of report formats: a name on the command line to the writer that makes it."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from stormwatch.report.csv_writer import CsvWriter
from stormwatch.report.json_writer import JsonWriter
from stormwatch.report.sarif_writer import SarifWriter
from stormwatch.report.writer import FindingWriter, WriterFactory, WriterOptions


def _text_writer(options: WriterOptions) -> FindingWriter:
    # Loaded on demand so that importing the report package does not import Rich.
    from stormwatch.report.text_writer import TextWriter

    return TextWriter(options)


WRITERS: Mapping[str, WriterFactory] = MappingProxyType(
    {
        "text": _text_writer,
        "json": JsonWriter,
        "sarif": SarifWriter,
        "csv": CsvWriter,
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

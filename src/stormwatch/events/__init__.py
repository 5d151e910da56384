"""Normalized events: the model, one parser per log source, ingestion and the DuckDB store.

Public surface (everything else is private to the package)::

    with EventStore.open("stormwatch.duckdb") as store:
        report = ingest_files([Path("logs/")], store, IngestSettings(source="auto"))
        store.connection.sql("SELECT source, count(*) FROM events GROUP BY ALL")
"""

from stormwatch.events.batch import EventBatch
from stormwatch.events.ingest import IngestError, IngestSettings, Progress
from stormwatch.events.ingest import ingest as ingest_files
from stormwatch.events.model import COLUMN_NAMES, COLUMNS, Event, events_table_ddl
from stormwatch.events.parsers import PARSERS, SOURCE_NAMES, Location, detect_source
from stormwatch.events.report import FileReport, IngestReport, Rejection, SourceSummary
from stormwatch.events.store import DEFAULT_DB, SCHEMA_VERSION, EventStore, StoreError
from stormwatch.events.values import Problem

__all__ = [
    "COLUMNS",
    "COLUMN_NAMES",
    "DEFAULT_DB",
    "PARSERS",
    "SCHEMA_VERSION",
    "SOURCE_NAMES",
    "Event",
    "EventBatch",
    "EventStore",
    "FileReport",
    "IngestError",
    "IngestReport",
    "IngestSettings",
    "Location",
    "Problem",
    "Progress",
    "Rejection",
    "SourceSummary",
    "StoreError",
    "detect_source",
    "events_table_ddl",
    "ingest_files",
]

"""The DuckDB event store: the ``events`` table the detection rules query.

* Idempotent: a batch only adds events whose ``event_id`` is not stored yet: an anti-join whose
  hash table is built on the batch and probed by one scan of the stored ids in the batch's time
  span (zone maps prune that span when files arrive in time order). Measured on 2M events, a
  unique index (ART) on ``event_id`` costs 3x more per insert, so the ingester makes batches
  large instead: one scan per few hundred thousand events.
* Atomic per batch: each batch is one transaction; an interrupted run leaves whole batches.
* Versioned: ``schema_version`` holds the layout version so later releases can migrate.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType

import duckdb

from stormwatch.events.batch import EventBatch, SpooledBatch
from stormwatch.events.model import COLUMNS, Event, events_table_ddl
from stormwatch.events.values import country_of

DEFAULT_DB = Path("stormwatch.duckdb")
# A store's scratch directory, in the temporary directory: ``stormwatch-ingest-<pid>-<random>``.
SCRATCH_PREFIX = "stormwatch-ingest-"
SCHEMA_VERSION = 4
FILES_DDL = """CREATE TABLE IF NOT EXISTS ingested_files (
  path VARCHAR PRIMARY KEY,
  size BIGINT,
  mtime TIMESTAMP,
  source VARCHAR,
  records BIGINT,
  events BIGINT,
  rejected BIGINT,
  ingested_at TIMESTAMP
)"""
_CASTS = ", ".join(
    f"j[{index}] AS {name}" if sql_type == "VARCHAR" else f"j[{index}]::{sql_type} AS {name}"
    for index, (name, sql_type, _) in enumerate(COLUMNS, 1)
)
_INSERT = f"""INSERT INTO events
SELECT i.* FROM (
  SELECT {_CASTS}
  FROM read_json($path, format = 'newline_delimited', records = false,
                 maximum_object_size = 1073741824,
                 columns = {{'j': 'VARCHAR[]'}})
) AS i
ANTI JOIN (SELECT event_id FROM events WHERE time BETWEEN $first AND $last) AS e USING (event_id)
RETURNING raw_file, hash(event_id)"""
# Copies of one record after the first (by file and line), among the rows ``{where}`` selects.
_COPIES = """DELETE FROM events WHERE rowid IN (
  SELECT rowid FROM events WHERE {where}
  QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY raw_file, raw_line) > 1
)
RETURNING raw_file"""
# The same record in two files (or two batches of one file) of one transaction passes the anti
# join twice: the later copies go again before the commit.
_DEDUPE = _COPIES.format(
    where="time BETWEEN $first AND $last AND hash(event_id) IN (SELECT unnest($hashes))"
)
_UNIQUE_IDS = _COPIES.format(
    where="event_id IN (SELECT event_id FROM events GROUP BY event_id HAVING count(*) > 1)"
)
# Each checkpoint rewrites what the WAL holds; at DuckDB's default (16 MB) an ingest checkpoints
# every few batches and spends more time there than inserting.
_CHECKPOINT_THRESHOLD = "SET checkpoint_threshold = '1GB'"


class StoreError(Exception):
    """The database cannot be opened, is of a newer layout, refused a batch, or holds nothing
    yet for the command (no events or alerts to investigate)."""


# DuckDB opens a SQLite or Postgres file by installing an extension from the network on the
# fly (and would then write the store's tables into it): a store is a DuckDB file or nothing.
_LOCAL_ONLY: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
_DUCKDB_MAGIC = (8, b"DUCK")


def connect(
    path: Path | str, read_only: bool = False, memory_limit: str | None = None
) -> duckdb.DuckDBPyConnection:
    """A connection to the DuckDB file at ``path`` (created when absent), never to a file of
    another kind; raises ``StoreError`` for one, ``duckdb.Error`` when DuckDB refuses."""
    target = Path(path)
    if str(path) != ":memory:" and target.is_file() and target.stat().st_size:
        with target.open("rb") as stream:
            head = stream.read(12)
        offset, magic = _DUCKDB_MAGIC
        if head[offset : offset + len(magic)] != magic:
            raise StoreError(f"{path} is not a DuckDB database file")
    config = dict(_LOCAL_ONLY, **({"memory_limit": memory_limit} if memory_limit else {}))
    return duckdb.connect(str(path), read_only=read_only, config=config)


@dataclass(frozen=True)
class FileEntry:
    """One ingested file, as remembered in ``ingested_files``."""

    path: str
    size: int
    mtime: datetime
    source: str | None
    records: int
    events: int
    rejected: int


class EventStore:
    """A DuckDB database holding normalized events. Use :meth:`open`; close when done."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, scratch: Path) -> None:
        self._db = connection
        self._scratch = scratch

    @classmethod
    def open(cls, path: Path | str = DEFAULT_DB) -> EventStore:
        """Open (creating if needed) the database at ``path`` (``":memory:"`` for none)."""
        try:
            connection = connect(path)
        except (duckdb.Error, StoreError) as error:
            raise StoreError(f"cannot open database {path}: {error}") from error
        try:
            connection.execute(_CHECKPOINT_THRESHOLD)
            prepare_schema(connection)
        except (duckdb.Error, StoreError) as error:
            connection.close()
            raise StoreError(f"cannot use database {path}: {error}") from error
        _remove_stale_scratch()
        scratch = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")
        return cls(connection, Path(scratch))

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection, for the detection engine's queries."""
        return self._db

    @property
    def scratch(self) -> Path:
        """A private directory for spooled batches; removed when the store is closed."""
        return self._scratch

    def insert(self, batch: EventBatch) -> int:
        """Add the batch's new events in one transaction; returns how many were new."""
        return sum(self.commit(SpooledBatch.of(batch, self._scratch / "batch.ndjson")).values())

    def commit(self, batch: SpooledBatch, files: Sequence[FileEntry] = ()) -> Counter[str | None]:
        """Add the spooled batch's new events and record ``files``, all in one transaction.

        Returns the number of new events per ``raw_file``; the batch's files are removed. A
        commit costs a WAL sync and a scan of the stored ids, so the ingester groups many
        batches into one.
        """
        paths = [str(path) for path in batch.paths]
        params = {"path": paths, "first": batch.first, "last": batch.last}
        try:
            self._db.begin()
            added = self._db.execute(_INSERT, params).fetchall() if paths else []
            stored = Counter(raw_file for raw_file, _ in added)
            repeated = _repeated([hashed for _, hashed in added])
            if repeated:
                span = {"hashes": repeated, "first": batch.first, "last": batch.last}
                removed = self._db.execute(_DEDUPE, span).fetchall()
                stored.subtract(raw_file for (raw_file,) in removed)
            for start in range(0, len(files), 500):
                _remember(self._db, files[start : start + 500])
            self._db.commit()
        except duckdb.Error as error:
            self._db.rollback()
            raise StoreError(f"batch of {batch.rows} events not stored: {error}") from error
        finally:
            for path in batch.paths:
                path.unlink(missing_ok=True)
        return stored

    def add(self, events: Iterable[Event]) -> int:
        """Add events built elsewhere (tests, other producers) as one batch."""
        return self.insert(EventBatch.of(events))

    def ingested(self) -> dict[str, tuple[int, datetime, str | None]]:
        """Files already ingested: path → (size, modification time, source)."""
        rows = self._db.execute("SELECT path, size, mtime, source FROM ingested_files").fetchall()
        return {path: (size, mtime, source) for path, size, mtime, source in rows}

    def count(self) -> int:
        """Number of stored events."""
        row = self._db.execute("SELECT count(*) FROM events").fetchone()
        return int(row[0]) if row else 0

    def export_parquet(self, out_dir: Path) -> int:
        """Write all events as Parquet under ``out_dir/source=.../day=.../``; returns rows.

        The folder then holds this store's events and nothing else: an earlier export there is
        replaced whole (written beside it, then swapped in), so no partition of another store
        or an older export lingers. A folder holding anything but an export is refused
        (``StoreError``): nothing of the user's is deleted.
        """
        out_dir = out_dir.resolve()
        if out_dir.is_dir() and any(not _partition(entry) for entry in out_dir.iterdir()):
            raise StoreError(
                f"{out_dir} holds files that are not a stormwatch export: "
                "export into a new or empty folder"
            )
        staging = out_dir.with_name(f".{out_dir.name}.export-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        try:
            staging.mkdir(parents=True)
            row = self._db.execute(
                "COPY (SELECT *, CAST(time AS DATE) AS day FROM events ORDER BY time) "
                f"TO '{_quoted(staging)}' (FORMAT PARQUET, PARTITION_BY (source, day), "
                "OVERWRITE_OR_IGNORE)"
            ).fetchone()
            _swap(staging, out_dir)
        except (OSError, duckdb.Error) as error:
            shutil.rmtree(staging, ignore_errors=True)
            raise StoreError(f"cannot export to {out_dir}: {error}") from error
        return int(row[0]) if row else 0

    def close(self) -> None:
        """Close the database and remove the scratch directory."""
        self._db.close()
        shutil.rmtree(self._scratch, ignore_errors=True)

    def __enter__(self) -> EventStore:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def _partition(entry: Path) -> bool:
    """An entry of an export folder: a ``source=...`` partition folder."""
    return entry.is_dir() and entry.name.startswith("source=")


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def _swap(new: Path, old: Path) -> None:
    """Put the folder ``new`` where ``old`` is (or is not yet), then remove the old one."""
    if not old.exists():
        new.rename(old)
        return
    retired = old.with_name(f".{old.name}.old-{os.getpid()}")
    old.rename(retired)
    new.rename(old)
    shutil.rmtree(retired, ignore_errors=True)


def _remove_stale_scratch() -> None:
    """Remove the scratch directories of ingest runs that were killed (their process is gone):
    each can hold a few hundred MB of spooled batches."""
    for folder in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-*"):
        pid = folder.name.removeprefix(SCRATCH_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process
        return True
    return True


def _remember(db: duckdb.DuckDBPyConnection, files: Sequence[FileEntry]) -> None:
    """One statement for many files: each statement costs milliseconds, a row microseconds."""
    rows = ", ".join(["(?, ?, ?, ?, ?, ?, ?, now())"] * len(files))
    params: list[object] = []
    for f in files:
        params += [f.path, f.size, f.mtime, f.source, f.records, f.events, f.rejected]
    db.execute(f"INSERT OR REPLACE INTO ingested_files VALUES {rows}", params)


def stored_version(connection: duckdb.DuckDBPyConnection) -> int | None:
    """The store's layout version (``None`` before any); raises ``StoreError`` for a layout
    newer than this stormwatch reads."""
    found = connection.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchone()
    if not found or not found[0]:
        return None
    row = connection.execute("SELECT max(value) FROM schema_version").fetchone()
    version = None if row is None or row[0] is None else int(row[0])
    if version is not None and version > SCHEMA_VERSION:
        raise StoreError(
            f"the store has schema version {version}; this stormwatch reads up to "
            f"{SCHEMA_VERSION}: upgrade stormwatch"
        )
    return version


def prepare_schema(connection: duckdb.DuckDBPyConnection) -> None:
    """Make the database a store of this version: tables created, an older layout migrated;
    ``StoreError`` for a newer one. Every command that writes to a store opens it so."""
    version = stored_version(connection)
    connection.execute("CREATE TABLE IF NOT EXISTS schema_version (value INTEGER NOT NULL)")
    connection.execute(events_table_ddl())
    connection.execute(FILES_DDL)
    if version is None:
        connection.execute("INSERT INTO schema_version VALUES (?)", [SCHEMA_VERSION])
        return
    for step, migrate in enumerate(_MIGRATIONS[version - 1 :], version + 1):
        connection.begin()
        migrate(connection)
        connection.execute("UPDATE schema_version SET value = ?", [step])
        connection.commit()


def _make_ids_unique(connection: duckdb.DuckDBPyConnection) -> None:
    """Version 1 → 2: version 1 could store one record twice when both copies arrived in one
    transaction; keep the first of each (by file and line), as inserts now do."""
    connection.execute(_UNIQUE_IDS)


def _add_countries(connection: duckdb.DuckDBPyConnection) -> None:
    """Version 2 → 3: events gain ``src_country``, looked up once per distinct address."""
    connection.execute("ALTER TABLE events ADD COLUMN IF NOT EXISTS src_country VARCHAR")
    addresses = [ip for (ip,) in connection.execute(_ADDRESSES).fetchall()]
    found = {"ips": addresses, "countries": [country_of(ip) for ip in addresses]}
    connection.execute(_COUNTRIES, found)
    connection.execute(_SET_COUNTRIES)
    connection.execute("DROP TABLE countries")


def _resources_per_account(connection: duckdb.DuckDBPyConnection) -> None:
    """Version 3 → 4: an AWS event's resource names the service in its account, as the parsers
    now write it (``bedrock.amazonaws.com/111122223333``), so that baselines stay continuous."""
    connection.execute(_AWS_RESOURCES)


_AWS_RESOURCES = """UPDATE events SET resource = resource || '/' || account
WHERE source IN ('cloudtrail', 'bedrock_invocation') AND account IS NOT NULL
  AND resource IS NOT NULL AND resource NOT LIKE '%/%'"""
_ADDRESSES = "SELECT DISTINCT src_ip FROM events WHERE src_ip IS NOT NULL"
_COUNTRIES = """CREATE TEMP TABLE countries AS
SELECT unnest($ips::VARCHAR[]) AS src_ip, unnest($countries::VARCHAR[]) AS country"""
_SET_COUNTRIES = """UPDATE events SET src_country = c.country FROM countries AS c
WHERE events.src_ip = c.src_ip"""
# _MIGRATIONS[n - 1] takes a store from version n to n + 1
_MIGRATIONS = (_make_ids_unique, _add_countries, _resources_per_account)


def _repeated(values: Sequence[int]) -> list[int]:
    """The values that occur more than once (a set first: almost always there are none)."""
    if len(set(values)) == len(values):
        return []
    return sorted(value for value, count in Counter(values).items() if count > 1)

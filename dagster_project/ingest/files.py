"""Drop-folder systems (suppliers on X12, the 3PL's CSV and X12, CSV exports such as the
planning tool's): each file once, routed by content, archived when loaded, quarantined with
the reason when unreadable.

For each file in the system's folder (oldest first):

1. a file whose content (sha256) was already loaded is only archived again;
2. X12 is read with the delimiters of its own ISA; each received document
   (846, 855, 856, 810, 945) goes to the stream declared for its transaction
   set (``params: {transaction_set: "846"}``), keyed by its natural key; a
   transaction set the reader rejected is quarantined with its issues; a
   file that cannot be read at all (truncated, no ISA) is quarantined whole;
3. CSV goes to the stream whose ``params.pattern`` matches the file name,
   one record per row (numbers typed, a garbled row quarantined); a stream
   with ``snapshot: true`` treats each file as the complete state; a CSV-only
   folder (``file_drop_csv``) takes every file as CSV, so one that no stream's
   pattern matches is quarantined;
4. the file is recorded in ``ops.inbound_files`` and moved to ``archive/``
   (or ``quarantine/`` with a ``.reason.txt`` beside it);
5. for X12, one 997 per received interchange (one AK per group) is written to
   the system's outbox (``settings.outbox_env``), named by its control number.

Each stream's rows land in their own transaction (idempotent by key and hash),
so a crash at any step re-processes the file harmlessly on the next run.
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import io
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from dagster_project.connectors.base import Page, StreamConfig
from dagster_project.connectors.x12 import (
    RECEIVED_SETS,
    X12Error,
    parse_file,
    write_acknowledgments,
)
from dagster_project.ingest.landing import Landing, LoadCounts, Record, Rejected, dumps
from dagster_project.ingest.readers import SystemConfig
from dagster_project.ingest.validation import RecordValidator, load_known_values

# Drop folders of CSV exports only (no X12, no 997 outbox): any other file is quarantined.
CSV_ONLY_KINDS = ("file_drop_csv",)
ARCHIVE = "archive"
QUARANTINE = "quarantine"

# Business error codes of quarantined files and rows (ops.quarantine.error_code)
X12_ENVELOPE_INVALID = "x12_envelope_invalid"  # no ISA, truncated, bad delimiters: whole file
X12_TRANSACTION_REJECTED = "x12_transaction_rejected"  # a transaction set failed its checks
FILE_UNROUTED = "file_unrouted"  # no stream of the system takes files of this name
FILE_NOT_UTF8 = "file_not_utf8"
CSV_EMPTY = "csv_empty"  # no header row
CSV_ROW_MALFORMED = "csv_row_malformed"  # too many or too few fields on a row
CSV_VALUE_INVALID = "csv_value_invalid"  # a typed field (a whole number) does not parse


@dataclass
class FolderResult:
    files_loaded: int = 0
    files_quarantined: int = 0
    files_already_loaded: int = 0
    acknowledgments: int = 0
    counts: dict[str, LoadCounts] = field(default_factory=dict)
    batch_ids: dict[str, str] = field(default_factory=dict)
    last_file: str | None = None  # the cursor of a folder: the last file taken
    newest_file_written: float | None = None  # its mtime (epoch seconds)

    @property
    def lag_seconds(self) -> float | None:
        """How far behind the newest file taken this run was (None: no file)."""
        if self.newest_file_written is None:
            return None
        return max(0.0, time.time() - self.newest_file_written)


def write_atomically(folder: Path, name: str, data: bytes) -> Path:
    """Put ``data`` in ``folder/name`` so a partner never reads half a file: written as the
    hidden ``.name.part``, synced, then renamed."""
    tmp = folder / f".{name}.part"
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, folder / name)
    return folder / name


def _pending_files(folder: Path) -> list[Path]:
    files = [
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix not in (".tmp", ".part")
    ]
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))


def _move(path: Path, sub: str) -> Path:
    target_dir = path.parent / sub
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    os.replace(path, target)
    return target


class FolderSync:
    """One run over one system's drop folder."""

    def __init__(
        self,
        conn: psycopg.Connection,
        config: SystemConfig,
        streams: list[StreamConfig],
        progress: Callable[[str], None],
    ) -> None:
        self.conn = conn
        self.config = config
        self.progress = progress
        self.streams = streams
        self.by_set = {
            s.params["transaction_set"]: s for s in streams if s.params.get("transaction_set")
        }
        self.csv_streams = [s for s in streams if s.params.get("pattern")]
        self.landings = {
            s.name: Landing(
                conn,
                config.system,
                s.name,
                s.key_columns,
                volatile_fields=tuple(s.volatile_fields),
                snapshot=s.snapshot,
            )
            for s in streams
        }
        for landing in self.landings.values():
            landing.ensure_table()
        self.validators = {
            s.name: RecordValidator(config.system, config.kind, s, load_known_values(conn, s))
            for s in streams
        }
        self.result = FolderResult(counts={s.name: LoadCounts() for s in streams})
        self.result.batch_ids = {name: str(land.batch_id) for name, land in self.landings.items()}

    # ----------------------------------------------------------------- run
    def run(self) -> FolderResult:
        folder = Path(self.config.env(self.config.folder_env, "drop folder"))
        if not folder.is_dir():
            raise FileNotFoundError(
                f"{self.config.system}: drop folder {folder} ({self.config.folder_env}) does not "
                "exist: create it or correct the variable"
            )
        for landing in self.landings.values():
            landing.start_batch(None)
        error = None
        try:
            for path in _pending_files(folder):
                self._one(path)
        except Exception as exc:
            error = str(exc)
            raise
        finally:
            for name, landing in self.landings.items():
                landing.finish_batch(self.result.counts[name], None, None, error=error)
        return self.result

    def _one(self, path: Path) -> None:
        self.result.last_file = path.name
        written = path.stat().st_mtime
        if self.result.newest_file_written is None or written > self.result.newest_file_written:
            self.result.newest_file_written = written
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        seen = self.conn.execute(
            "select status from ops.inbound_files where system = %s and sha256 = %s",
            (self.config.system, digest),
        ).fetchone()
        self.conn.commit()
        if seen is not None:
            _move(path, ARCHIVE if seen[0] == "loaded" else QUARANTINE)
            self.result.files_already_loaded += 1
            return
        if (
            self.config.kind in CSV_ONLY_KINDS
            or path.suffix.lower() == ".csv"
            or any(fnmatch.fnmatch(path.name, s.params["pattern"]) for s in self.csv_streams)
        ):
            self._csv(path, data, digest)
        else:
            self._x12(path, data, digest)

    # ----------------------------------------------------------------- X12
    def _x12(self, path: Path, data: bytes, digest: str) -> None:
        try:
            parsed = parse_file(data, source=path.name, strict=False)
        except X12Error as exc:
            self._quarantine_file(
                path, data, digest, f"unreadable X12: {exc}", X12_ENVELOPE_INVALID
            )
            return
        per_stream: dict[str, tuple[list[Record], list[Rejected]]] = {}
        unrouted: list[str] = []
        for doc in parsed.documents:
            stream = self.by_set.get(doc.transaction_set)
            if stream is None:
                unrouted.append(doc.transaction_set)
                continue
            payload = {"record_key": doc.key.record_key(), "file": path.name, **doc.to_payload()}
            records, rejected = per_stream.setdefault(stream.name, ([], []))
            recs, rejs = self.validators[stream.name].split(_page([payload], path.name))
            records += recs
            rejected += rejs
        for interchange, group, transaction in parsed.rejected:
            stream = self.by_set.get(transaction.code) or (
                self.streams[0] if self.streams else None
            )
            if stream is None:
                continue
            issues = (
                "; ".join(str(i) for i in [*interchange.issues, *group.issues, *transaction.issues])
                or "rejected"
            )
            key = (
                f"{path.name}#{interchange.control_number}/{group.control_number}/"
                f"{transaction.control_number}"
            )
            per_stream.setdefault(stream.name, ([], []))[1].append(
                Rejected(
                    key,
                    "\n".join("*".join(s) for s in (seg.data() for seg in transaction.segments)),
                    f"{self.config.system}: transaction set {transaction.code} "
                    f"{transaction.control_number} in {path.name} rejected: {issues}",
                    X12_TRANSACTION_REJECTED,
                )
            )
        for name, (records, rejected) in per_stream.items():
            self.result.counts[name].add(self.landings[name].commit_page(records, rejected))
        documents = len(parsed.documents)
        note = (
            f"transaction sets not declared for {self.config.system}: "
            f"{', '.join(sorted(set(unrouted)))}"
            if unrouted
            else None
        )
        self._record_file(path.name, digest, "loaded", note, documents)
        _move(path, ARCHIVE)
        self.result.files_loaded += 1
        self._acknowledge(parsed.interchanges)

    def _acknowledge(self, interchanges: list[Any]) -> None:
        outbox_env = self.config.settings.get("outbox_env")
        if not outbox_env:
            return
        outbox = Path(self.config.env(outbox_env, "outbox folder"))
        outbox.mkdir(parents=True, exist_ok=True)
        for interchange in interchanges:
            control = self.conn.execute("select nextval('ops.x12_control_number')").fetchone()[0]
            self.conn.commit()
            text = write_acknowledgments(
                interchange,
                control_number=control,
                first_group_control=control,
                supported=RECEIVED_SETS,
            )
            name = f"997_{interchange.sender_id.strip()}_{interchange.control_number}.edi"
            write_atomically(outbox, name, text.encode())
            self.result.acknowledgments += 1

    # ----------------------------------------------------------------- CSV
    def _csv(self, path: Path, data: bytes, digest: str) -> None:
        stream = next(
            (s for s in self.csv_streams if fnmatch.fnmatch(path.name, s.params["pattern"])), None
        )
        if stream is None:
            self._quarantine_file(
                path,
                data,
                digest,
                f"no stream of {self.config.system} takes files named "
                f"{path.name} (declare one with params.pattern)",
                FILE_UNROUTED,
            )
            return
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            self._quarantine_file(path, data, digest, f"not UTF-8 text: {exc}", FILE_NOT_UTF8)
            return
        integers = set(stream.params.get("integers", "").split(",")) - {""}
        records: list[dict] = []
        rejected: list[Rejected] = []
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if not reader.fieldnames:
            self._quarantine_file(path, data, digest, "empty CSV (no header row)", CSV_EMPTY)
            return
        for row in reader:
            line = f"{path.name}:{reader.line_num}"
            if None in row or any(v is None for v in row.values()):
                rejected.append(
                    Rejected(
                        line,
                        dumps(row),
                        f"{self.config.system} {stream.name}: "
                        f"row {reader.line_num} of {path.name} has "
                        f"{'too many' if None in row else 'too few'} fields",
                        CSV_ROW_MALFORMED,
                    )
                )
                continue
            field_name = None
            try:
                record = {}
                for field_name, value in row.items():
                    record[field_name] = int(value) if field_name in integers else value
            except ValueError as exc:
                rejected.append(
                    Rejected(
                        line,
                        dumps(row),
                        f"{self.config.system} {stream.name}: "
                        f"row {reader.line_num} of {path.name}, field {field_name}: {exc} "
                        "(expected a whole number)",
                        CSV_VALUE_INVALID,
                    )
                )
                continue
            record["file"] = path.name
            records.append(record)
        landing = self.landings[stream.name]
        recs, rejs = self.validators[stream.name].split(_page(records, path.name))
        if landing.snapshot:
            landing.begin_snapshot()
        self.result.counts[stream.name].add(landing.commit_page(recs, [*rejected, *rejs]))
        if landing.snapshot:
            landing.close_snapshot(f"snapshot:{path.name}")
        self._record_file(path.name, digest, "loaded", None, len(recs))
        _move(path, ARCHIVE)
        self.result.files_loaded += 1

    # ---------------------------------------------------------- bookkeeping
    def _record_file(
        self, name: str, digest: str, status: str, reason: str | None, documents: int
    ) -> None:
        with self.conn.transaction():
            self.conn.execute(
                """insert into ops.inbound_files (system, file_name, sha256, status, reason,
                                                  documents)
                   values (%s, %s, %s, %s, %s, %s)
                   on conflict (system, sha256) do nothing""",
                (self.config.system, name, digest, status, reason, documents),
            )

    def _quarantine_file(
        self, path: Path, data: bytes, digest: str, reason: str, code: str
    ) -> None:
        full = f"{self.config.system}: file {path.name}: {reason}"
        stream = self.streams[0]
        with self.conn.transaction():
            self.landings[stream.name].commit_page(
                [], [Rejected(f"file:{path.name}", data.decode("utf-8", "replace"), full, code)]
            )
            self._record_file(path.name, digest, "quarantined", full, 0)
        target = _move(path, QUARANTINE)
        target.with_name(target.name + ".reason.txt").write_text(full + "\n")
        self.result.counts[stream.name].quarantined += 1
        self.result.files_quarantined += 1
        self.progress(full)


def _page(records: list[dict], source: str) -> Page:
    return Page(records=records, source=source)


def sync_folder(
    conn: psycopg.Connection,
    config: SystemConfig,
    streams: list[StreamConfig],
    progress: Callable[[str], None],
) -> FolderResult:
    return FolderSync(conn, config, streams, progress).run()

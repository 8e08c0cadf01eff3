"""Import files kept on disk (MEDIA_ROOT/imports/…): find the rows about a subject, and rewrite a file without them.

A file is streamed, never held whole. CSV is read cell by cell (an id must be a whole cell; an email or a name may
sit anywhere in one), JSON Lines line by line, a JSON array element by element (`accounts.imports.readers`). A file
that cannot be parsed any more is searched line by line.

The rewrite cannot take part in the database transaction, so it is done in two steps: `prepare` writes the new
content next to the file (inside the erasure's transaction: a failure rolls everything back), `commit` swaps it in
with an atomic rename once the transaction has committed, `discard` removes it when the transaction did not.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from accounts.imports.readers import UnreadableFile, detect_format, iter_json_array
from accounts.models import ImportJob, ImportStatus
from privacy.subjects import Subject

logger = logging.getLogger(__name__)
TEMP_SUFFIX = ".erasing"
UNFINISHED = (ImportStatus.QUEUED, ImportStatus.RUNNING)


def finished_jobs():
    """Imports done or failed whose file is kept: the ones an erasure rewrites."""
    return ImportJob.objects.exclude(file="").exclude(status__in=UNFINISHED).order_by("pk")


def unfinished_jobs():
    """Imports still queued or running: their file must not change under them (they resume by row number)."""
    return ImportJob.objects.exclude(file="").filter(status__in=UNFINISHED).order_by("pk")


def _path(job: ImportJob) -> Path | None:
    if not job.file:
        return None
    try:
        path = Path(job.file.path)
    except NotImplementedError:  # a storage without local paths: nothing on this machine's disk
        return None
    return path if path.is_file() else None


def _format(job: ImportJob, path: Path) -> str:
    with path.open("rb") as binary:
        return detect_format(job.original_name or path.name, binary.read(512))


def _csv_rows(path: Path, subject: Subject) -> Iterator[tuple[bool, list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text)
        header = next(reader, None)
        if header is not None:
            yield False, header
        for cells in reader:
            yield subject.matches_cells(cells), cells


def _lines(path: Path, subject: Subject) -> Iterator[tuple[bool, str]]:
    with path.open(encoding="utf-8", errors="replace", newline="") as text:
        for line in text:
            yield bool(line.strip()) and subject.matches_json(line), line


def _elements(path: Path, subject: Subject) -> Iterator[tuple[bool, object]]:
    with path.open("rb") as binary:
        for _number, value in iter_json_array(binary):
            yield subject.matches_json(json.dumps(value, ensure_ascii=False)), value


def _rows(job: ImportJob, path: Path, subject: Subject):
    """(format, iterator of (matches, row)), falling back to lines when the file does not parse."""
    fmt = _format(job, path)
    reader = {"csv": _csv_rows, "json": _elements}.get(fmt, _lines)
    try:
        for _ in reader(path, subject):
            pass
    except (UnreadableFile, UnicodeDecodeError, csv.Error, ValueError):
        return "lines", _lines(path, subject)
    return fmt, reader(path, subject)


def _as_record(fmt: str, header: list[str] | None, row) -> object:
    if fmt == "csv":
        return dict(zip(header or [], row, strict=False)) if header else row
    if fmt in ("lines", "jsonl"):
        try:
            return json.loads(row)
        except ValueError:
            return row.rstrip("\r\n")
    return row


def matching_rows(job: ImportJob, subject: Subject) -> Iterator[object]:
    """The rows of the job's file that mention the subject (CSV rows as {column: value})."""
    path = _path(job)
    if path is None:
        return
    fmt, rows = _rows(job, path, subject)
    header = None
    for index, (matches, row) in enumerate(rows):
        if fmt == "csv" and index == 0:
            header = row
            continue
        if matches:
            yield _as_record(fmt, header, row)


def mentions_subject(job: ImportJob, subject: Subject) -> bool:
    return next(matching_rows(job, subject), None) is not None


def _write(fmt: str, rows, target: io.TextIOBase) -> int:
    dropped = 0
    if fmt == "csv":
        writer = csv.writer(target, lineterminator="\n")
        for matches, cells in rows:
            dropped += matches
            if not matches:
                writer.writerow(cells)
    elif fmt == "json":
        target.write("[")
        first = True
        for matches, value in rows:
            dropped += matches
            if not matches:
                target.write(("" if first else ",\n") + json.dumps(value, ensure_ascii=False))
                first = False
        target.write("]\n")
    else:
        for matches, line in rows:
            dropped += matches
            if not matches:
                target.write(line)
    return dropped


@dataclass
class FileRewrites:
    """The import files an erasure rewrites: prepared inside its transaction, swapped in after it commits."""

    prepared: list[tuple[Path, Path]] = field(default_factory=list)
    rows_removed: int = 0

    def prepare(self, job: ImportJob, subject: Subject) -> bool:
        """Write the job's file without the subject's rows next to it; False when no row mentions them."""
        path = _path(job)
        if path is None or not mentions_subject(job, subject):
            return False
        fmt, rows = _rows(job, path, subject)
        temp = path.with_name(path.name + TEMP_SUFFIX)
        with temp.open("w", encoding="utf-8", newline="") as target:
            self.rows_removed += _write(fmt, rows, target)
        self.prepared.append((temp, path))
        return True

    def commit(self) -> None:
        for temp, path in self.prepared:
            os.replace(temp, path)
        self.prepared = []

    def discard(self) -> None:
        for temp, _ in self.prepared:
            try:
                temp.unlink()
            except FileNotFoundError:
                logger.warning("Erasure: the rewritten import file %s was already gone.", temp)
        self.prepared = []

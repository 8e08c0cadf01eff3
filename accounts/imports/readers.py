"""Streaming readers for import files: CSV with a header row, JSON arrays and JSON Lines, one row at a time.

A file is never read whole: CSV goes through csv.DictReader over a text stream, JSON arrays through an
incremental decoder over 64 KB chunks. Each reader yields (row_number, dict) with 1-based data row numbers.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator
from typing import IO

CHUNK_CHARS = 64 * 1024
DEFAULT_MAX_ROW_CHARS = 1024 * 1024  # one JSON Lines line or JSON array element (settings.IMPORT_MAX_ROW_KB)


class UnreadableFile(ValueError):
    """The file cannot be read as the declared format (encoding, JSON syntax, missing header)."""


def detect_format(name: str, head: bytes) -> str:
    lowered = name.lower()
    if lowered.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if lowered.endswith(".json"):
        return "json"
    if lowered.endswith(".csv"):
        return "csv"
    stripped = head.lstrip(codecs.BOM_UTF8).lstrip()
    if stripped.startswith(b"["):
        return "json"
    if stripped.startswith(b"{"):
        return "jsonl"
    return "csv"


def _text(binary: IO[bytes]) -> io.TextIOWrapper:
    return io.TextIOWrapper(binary, encoding="utf-8-sig", newline="", errors="strict")


def iter_csv(binary: IO[bytes]) -> Iterator[tuple[int, dict]]:
    reader = csv.DictReader(_text(binary))
    try:
        if not reader.fieldnames:
            raise UnreadableFile("The CSV file has no header row.")
        reader.fieldnames = [name.strip() for name in reader.fieldnames]
        for number, row in enumerate(reader, start=1):
            extra = row.pop(None, None)
            if extra:
                row["__extra__"] = extra
            yield number, row
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"The file is not UTF-8 text ({exc.reason} near byte {exc.start}).") from exc
    except csv.Error as exc:
        raise UnreadableFile(f"Malformed CSV: {exc}") from exc


def iter_jsonl(binary: IO[bytes], max_row_chars: int = DEFAULT_MAX_ROW_CHARS) -> Iterator[tuple[int, dict]]:
    """Rows of a JSON Lines file; a line longer than `max_row_chars` is reported and skipped, never held whole."""
    text = _text(binary)
    number = 0
    try:
        while line := text.readline(max_row_chars + 1):
            number += 1
            if len(line) > max_row_chars and not line.endswith("\n"):
                while (rest := text.readline(CHUNK_CHARS)) and not rest.endswith("\n"):
                    pass  # skip the rest of the oversized line
                yield number, {"__invalid__": f"Line {number} is over {max_row_chars // 1024} KB."}
                continue
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError:
                yield number, {"__invalid__": f"Malformed JSON on line {number}."}
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"The file is not UTF-8 text ({exc.reason}).") from exc


def iter_json_array(binary: IO[bytes], max_row_chars: int = DEFAULT_MAX_ROW_CHARS) -> Iterator[tuple[int, dict]]:
    """Rows of a top-level JSON array, decoded incrementally (the array never sits in memory); an element longer
    than `max_row_chars` stops the file with a clear error."""
    text = _text(binary)
    decoder = json.JSONDecoder()
    buffer, pos, eof = "", 0, False

    def fill() -> bool:
        nonlocal buffer, pos, eof
        chunk = text.read(CHUNK_CHARS)
        if not chunk:
            eof = True
            return False
        buffer = buffer[pos:] + chunk
        pos = 0
        return True

    def skip(chars: str) -> None:
        nonlocal pos
        while True:
            while pos < len(buffer) and buffer[pos] in chars:
                pos += 1
            if pos < len(buffer) or not fill():
                return

    try:
        fill()
        skip(" \t\r\n")
        if pos >= len(buffer) or buffer[pos] != "[":
            raise UnreadableFile("A JSON import file must be an array of objects ([{…}, …]) or JSON Lines.")
        pos += 1
        number = 0
        while True:
            skip(" \t\r\n,")
            if pos >= len(buffer):
                raise UnreadableFile("The JSON array is not closed (truncated file?).")
            if buffer[pos] == "]":
                return
            while True:
                try:
                    value, end = decoder.raw_decode(buffer, pos)
                    if end == len(buffer) and not eof and fill():
                        continue  # a value ending exactly at the buffer edge may be cut short
                    break
                except json.JSONDecodeError as exc:
                    if len(buffer) - pos > max_row_chars:
                        raise UnreadableFile(f"Row {number + 1} is over {max_row_chars // 1024} KB.") from exc
                    if eof or not fill():
                        raise UnreadableFile(f"Malformed JSON after row {number}: {exc.msg}.") from exc
            number += 1
            pos = end
            yield number, value
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"The file is not UTF-8 text ({exc.reason}).") from exc


def iter_rows(binary: IO[bytes], name: str, max_row_chars: int = DEFAULT_MAX_ROW_CHARS) -> Iterator[tuple[int, dict]]:
    head = binary.read(512)
    binary.seek(0)
    fmt = detect_format(name, head)
    if fmt == "csv":
        return iter_csv(binary)  # bounded per field by csv.field_size_limit()
    return {"json": iter_json_array, "jsonl": iter_jsonl}[fmt](binary, max_row_chars)


def count_rows(binary: IO[bytes], name: str) -> int | None:
    """Data rows of a CSV or JSON Lines file by counting lines (cheap, streamed); None for JSON arrays."""
    head = binary.read(512)
    binary.seek(0)
    fmt = detect_format(name, head)
    if fmt == "json":
        return None
    lines = 0
    last = b"\n"
    while chunk := binary.read(1 << 20):
        lines += chunk.count(b"\n")
        last = chunk[-1:]
    binary.seek(0)
    if last != b"\n":
        lines += 1
    return max(0, lines - 1) if fmt == "csv" else lines

"""Opening a CSV or Parquet file: its columns, encoding and text checks, and its rows in numbered batches."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import polars as pl
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from data_access.importing.mapping import Mapping
from data_access.importing.problems import EXAMPLES, Problem, first_line

# the column that numbers each source row: 1-based data rows, row 1 being the first below the header
ROW = "__row"

# limits that keep the work on any file bounded: columns in a file, bytes in its header line
MAX_COLUMNS = 1_000
MAX_HEADER_BYTES = 16 << 20
# byte-order marks that declare an encoding other than UTF-8, longest first (UTF-32's starts like UTF-16's)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass
class Source:
    """A file's columns and a reader of its rows in bounded batches, each with its 1-based data row number.

    Batches come from pyarrow's streaming readers: each is read when asked for, so memory stays flat
    (polars' `collect_batches` reads ahead of a slow consumer, here the database, without bound).
    """

    schema: pl.Schema
    rows_total: int | None
    read: Callable[[int], Iterator[pl.DataFrame]] = lambda _rows: iter(())
    problems: list[Problem] = field(default_factory=list)


def _numbered(batches: Iterator[pa.RecordBatch]) -> Iterator[pl.DataFrame]:
    first = 1
    for record_batch in batches:
        frame = pl.DataFrame(pl.from_arrow(record_batch)).with_row_index(ROW, offset=first)
        first += frame.height
        yield frame


def _parquet_batches(path: Path) -> Callable[[int], Iterator[pl.DataFrame]]:
    def read(rows: int) -> Iterator[pl.DataFrame]:
        with pq.ParquetFile(path) as parquet:
            yield from _numbered(parquet.iter_batches(batch_size=rows))

    return read


def _csv_batches(path: Path, delimiter: str, names: list[str]) -> Callable[[int], Iterator[pl.DataFrame]]:
    """Every column as text (values are parsed by the mapping's rules, with errors reported per row)."""

    def read(rows: int) -> Iterator[pl.DataFrame]:
        reader = pa_csv.open_csv(
            path,
            read_options=pa_csv.ReadOptions(block_size=max(1 << 20, rows * 64)),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in names}, strings_can_be_null=True, null_values=[""]
            ),
        )
        with reader:
            yield from _numbered(_until_end(reader))

    return read


def _until_end(reader: pa_csv.CSVStreamingReader) -> Iterator[pa.RecordBatch]:
    while True:
        try:
            yield reader.read_next_batch()
        except StopIteration:
            return


def _decode_lines(piece: bytes, encoding: str, first_line: int, bad_lines: list[int]) -> str:
    """Decode a block of whole lines, noting the 1-based lines whose bytes are not in `encoding`."""
    try:
        return piece.decode(encoding)
    except UnicodeDecodeError:
        lines = piece.split(b"\n")
        decoded = []
        for offset, line in enumerate(lines):
            try:
                decoded.append(line.decode(encoding))
            except UnicodeDecodeError:
                bad_lines.append(first_line + offset)
                decoded.append(line.decode(encoding, errors="replace"))
        return "\n".join(decoded)


def _records_of_lines(path: Path, lines: list[int]) -> list[int]:
    """The data rows (CSV records below the header) that hold `lines`, 1-based and ascending; each row once.

    A newline inside a quoted value does not end a record: a line ends one when the quotes up to its end
    are balanced (a `""` inside a value counts twice, so it keeps the balance). A blank line is no record,
    as the CSV reader skips it, so these rows agree with the rows of every other problem. Without quoted
    newlines or blank lines, line N holds data row N − 1.
    """
    rows: list[int] = []
    wanted = iter(lines)
    line = next(wanted, None)
    record, quoted = 0, False
    with path.open("rb") as source:
        for number, text in enumerate(source, start=1):
            if line is None:
                break
            if not quoted and text in (b"\n", b"\r\n"):
                continue
            if number == line:
                rows.append(record)
                line = next(wanted, None)
            if text.count(b'"') % 2:
                quoted = not quoted
            if not quoted:
                record += 1
    return list(dict.fromkeys(rows))


def _wide_text(path: Path, codec: str, workdir: Path) -> tuple[Path, int, list[int]]:
    """UTF-16 or UTF-32 (a byte is not a character, nor b"\\n" a line end): decoded with an incremental
    decoder, one block at a time, into a UTF-8 copy; lines that do not decode are the ones with U+FFFD."""
    decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    bad_lines: list[int] = []
    lines = 0
    ends_with_newline = True
    target = workdir / "utf8.csv"
    with path.open("rb") as source, target.open("w", encoding="utf-8", newline="") as sink:
        while True:
            block = source.read(1 << 22)
            text = decoder.decode(block, final=not block)
            if text:
                if "\ufffd" in text:
                    bad_lines += [lines + i + 1 for i, line in enumerate(text.split("\n")) if "\ufffd" in line]
                sink.write(text)
                lines += text.count("\n")
                ends_with_newline = text.endswith("\n")
            if not block:
                break
    lines += 0 if ends_with_newline else 1
    return target, lines, _records_of_lines(target, sorted(set(bad_lines)))


def _check_text(path: Path, encoding: str, workdir: Path) -> tuple[Path, int, list[int], str]:
    """Check that a text file decodes; return the UTF-8 file to read, its line count, the bad data rows and
    the encoding it was read in (a byte-order mark's, else `encoding`).

    Files in another encoding (the mapping's `encoding`, or the one a byte-order mark declares: UTF-16 and
    UTF-32 included) are transcoded to UTF-8 on the way, one block at a time, so memory stays flat.
    """
    codec = codecs.lookup(encoding).name
    with path.open("rb") as probe:
        start = probe.read(4)
    has_bom = start.startswith(codecs.BOM_UTF8)
    declared = next((name for bom, name in _BOMS if start.startswith(bom)), None)
    if declared is not None or codec.startswith(("utf-16", "utf-32")):
        return (*_wide_text(path, declared or codec, workdir), declared or encoding)
    if codec == "utf-8" and has_bom:
        codec = "utf-8-sig"
    transcode = codec != "utf-8"
    bad_lines: list[int] = []
    lines = 0
    remainder = b""
    with ExitStack() as stack:
        source = stack.enter_context(path.open("rb"))
        sink = stack.enter_context((workdir / "utf8.csv").open("wb")) if transcode else None
        decoder_codec = "utf-8" if codec == "utf-8-sig" else codec
        first_block = True
        while True:
            block = source.read(1 << 22)
            data = remainder + block
            if first_block and codec == "utf-8-sig":
                data = data.removeprefix(codecs.BOM_UTF8)
            first_block = False
            cut = len(data) if not block else data.rfind(b"\n") + 1
            piece, remainder = data[:cut], data[cut:]
            if piece:
                text = _decode_lines(piece, decoder_codec, lines + 1, bad_lines)
                if sink is not None:
                    sink.write(text.encode("utf-8"))
                lines += piece.count(b"\n") + (0 if piece.endswith(b"\n") else 1)
            if not block:
                break
    return (workdir / "utf8.csv" if transcode else path), lines, _records_of_lines(path, bad_lines), encoding


def not_valid_text(encoding: str, mapping: Mapping) -> str:
    """What is wrong with a file that does not decode in `encoding` (the mapping's, or its byte-order mark's)."""
    declared = " (as its byte-order mark declares)" if encoding != mapping.encoding else ""
    return (
        f"bytes that are not valid {encoding}{declared}: re-save the file as UTF-8 or set `encoding:` in the "
        "mapping (for example latin-1 or cp1252)"
    )


def _nul_lines(path: Path) -> list[int]:
    """The 1-based lines of a UTF-8 file that hold a NUL byte (a binary file, or UTF-16 read as UTF-8)."""
    found: list[int] = []
    lines = 0
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1 << 22), b""):
            if b"\x00" in block:
                found += [lines + i + 1 for i, line in enumerate(block.split(b"\n")) if b"\x00" in line]
            lines += block.count(b"\n")
    return found


def open_source(
    path: Path, mapping: Mapping, workdir: Path, *, file_format: Literal["csv", "parquet"] | None = None
) -> Source:
    """The file's columns and batches; `file_format` overrides the mapping's (a query's result is Parquet)."""
    name = str(path)
    empty = pl.Schema()
    if not path.is_file():
        return Source(empty, 0, problems=[Problem("unreadable file", "the file does not exist", name)])
    if (file_format or mapping.file_format(path)) == "parquet":
        try:
            schema = pl.read_parquet_schema(path)
            with pq.ParquetFile(path) as parquet:
                total = parquet.metadata.num_rows
        except (pl.exceptions.PolarsError, pa.ArrowException, OSError) as error:
            problem = Problem("unreadable file", f"not a readable Parquet file: {first_line(error)}", name)
            return Source(empty, 0, problems=[problem])
        return Source(pl.Schema(schema), total, _parquet_batches(path))
    try:
        readable, lines, bad_rows, encoding = _check_text(path, mapping.encoding, workdir)
    except (LookupError, OSError) as error:
        return Source(empty, 0, problems=[Problem("unreadable file", str(error), name)])
    if bad_rows:
        problem = Problem(
            "encoding",
            not_valid_text(encoding, mapping),
            name,
            count=len(bad_rows),
            rows=tuple(bad_rows[:EXAMPLES]),
        )
        return Source(empty, max(lines - 1, 0), problems=[problem])
    if lines == 0:
        problem = Problem("empty file", "the file is empty: expected a header and data rows", name)
        return Source(empty, 0, problems=[problem])
    nul_rows = _records_of_lines(readable, _nul_lines(readable))
    if nul_rows:
        problem = Problem(
            "NUL bytes",
            "NUL bytes in the text: a binary file, or UTF-16 without a byte-order mark (then set "
            "`encoding: utf-16-le` in the mapping)",
            name,
            count=len(nul_rows),
            rows=tuple(nul_rows[:EXAMPLES]),
        )
        return Source(empty, max(lines - 1, 0), problems=[problem])
    with readable.open("rb") as header:
        line = header.readline(MAX_HEADER_BYTES + 1)
    if len(line) > MAX_HEADER_BYTES:
        message = f"the header line is longer than {MAX_HEADER_BYTES >> 20} MB: is this a CSV file?"
        return Source(empty, max(lines - 1, 0), problems=[Problem("too many columns", message, name)])
    names = next(
        csv.reader([line.decode("utf-8", errors="replace").removeprefix("\ufeff")], delimiter=mapping.delimiter), []
    )
    if len(names) > MAX_COLUMNS:
        message = f"the header has {len(names):,} columns; at most {MAX_COLUMNS:,} are read"
        return Source(empty, max(lines - 1, 0), problems=[Problem("too many columns", message, name)])
    schema = pl.Schema(dict.fromkeys(names, pl.String()))
    return Source(schema, max(lines - 1, 0), _csv_batches(readable, mapping.delimiter, names))

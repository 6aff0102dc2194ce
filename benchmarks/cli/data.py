"""A user's CSV file for `tunelab tune`, read with the standard library's csv module.

The file is UTF-8 text (a byte-order mark is dropped) with a header row of unique, non-empty column names;
blank lines are skipped; every row has the header's number of fields. Quoting is strict (a quote left open
or text after a closing quote is an error, not a silently merged field); spaces after a comma are skipped.
Features must be finite decimal numbers; the target holds numbers or labels. A missing value (an empty
cell, NA, NaN, null, ...) is refused rather than imputed. Every problem is a DataFileError naming the file
and, where it applies, the line and the column.
"""

import csv
import io
import math
import os
import re
from typing import NamedTuple

import numpy as np

MISSING = frozenset({"", "na", "n/a", "nan", "-nan", "+nan", "null", "none", "?", "#n/a", "<na>"})  # lower-cased
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")  # a decimal number, as a CSV file writes one
INFINITE = frozenset({"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"})


class DataFileError(ValueError):
    """A data file that cannot be used as it is; the message names the file, and the line and column where
    the problem is."""


class CsvTable(NamedTuple):
    """X (n, d) float64 features; y (n,) the target, float64 when every cell is a number, else str; the
    feature names in file order; lines[i] the line of the file on which row i ends."""
    X: np.ndarray
    y: np.ndarray
    features: list
    lines: list


def read_csv(path, target):
    """The CsvTable of the CSV file at `path` with the column `target` as y (see the module docstring)."""
    records = _records(path)
    while records and not any(cell.strip() for cell in records[0][1]):
        records.pop(0)  # blank lines before the header
    if not records:
        raise DataFileError(f"data file {path!r} is empty.")
    header = _header(path, records[0][1])
    if target not in header:
        raise DataFileError(f"column {target!r} is not in {path!r}; its columns are {', '.join(header)}.")
    body = [(line, row) for line, row in records[1:] if any(cell.strip() for cell in row)]
    if not body:
        raise DataFileError(f"data file {path!r} has a header but no rows.")
    for line, row in body:
        if len(row) != len(header):
            raise DataFileError(f"line {line} of {path!r} has {len(row)} fields; the header has {len(header)}.")
    t = header.index(target)
    features = [name for k, name in enumerate(header) if k != t]
    X = np.empty((len(body), len(features)))  # (n, d)
    for i, (line, row) in enumerate(body):
        cells = [cell for k, cell in enumerate(row) if k != t]
        for j, name in enumerate(features):
            X[i, j] = _feature(cells[j], name, line, path)
    lines = [line for line, _ in body]
    return CsvTable(X, _target([row[t].strip() for _, row in body], lines, target, path), features, lines)


def _text(path):
    """The file's text, decoded as UTF-8 without a leading byte-order mark."""
    if os.path.isdir(path):
        raise IsADirectoryError(f"data file {path!r} is a directory; give the path of a CSV file.")
    if not os.path.exists(path):
        raise FileNotFoundError(f"data file {path!r} does not exist.")
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataFileError(f"data file {path!r} is not UTF-8 text: byte 0x{data[exc.start]:02x} on line {line} "
                            f"({exc.reason}); save it as UTF-8 (e.g. iconv -f latin1 -t utf-8).") from None


def _records(path):
    """[(line on which the record ends, [cells])] for every record of the file."""
    reader = csv.reader(io.StringIO(_text(path), newline=""), strict=True, skipinitialspace=True)
    records = []
    try:
        for row in reader:
            records.append((reader.line_num, row))
    except csv.Error as exc:
        raise DataFileError(f"data file {path!r} is not valid CSV at line {reader.line_num}: {exc}.") from None
    return records


def _header(path, row):
    """The stripped column names; each must be non-empty and unique."""
    header = [name.strip() for name in row]
    for k, name in enumerate(header):
        if not name:
            raise DataFileError(f"column {k + 1} of the header of {path!r} has no name; name every column.")
        if name in header[:k]:
            raise DataFileError(f"column {name!r} appears twice in the header of {path!r} (columns "
                                f"{header.index(name) + 1} and {k + 1}); column names must be unique.")
    return header


def parse_number(cell):
    """The finite float a stripped cell spells as a decimal number, else None; math.inf when it overflows or
    spells an infinity."""
    if cell.lower() in INFINITE:
        return math.inf
    return float(cell) if NUMBER.fullmatch(cell) else None


def _feature(cell, name, line, path):
    cell = cell.strip()
    if cell.lower() in MISSING:
        raise DataFileError(f"feature {name!r} has a missing value ({cell!r}) on line {line} of {path!r}; tunelab "
                            "does not impute: fill it in or drop the row.")
    value = parse_number(cell)
    if value is None:
        raise DataFileError(f"feature {name!r} is not numeric: line {line} of {path!r} has {cell!r} (features must be "
                            "numbers; encode categories as numbers first).")
    if not math.isfinite(value):
        raise DataFileError(f"feature {name!r} is not finite: line {line} of {path!r} has {cell!r}.")
    return value


def _target(cells, lines, name, path):
    """y from the stripped target cells: float64 when every one is a finite number, else the labels as str."""
    missing = [(line, cell) for line, cell in zip(lines, cells) if cell.lower() in MISSING]
    if missing:
        shown = ", ".join(f"line {line} ({cell!r})" for line, cell in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise DataFileError(f"target {name!r} has {len(missing)} missing value(s) in {path!r}: {shown}{more}; "
                            "drop those rows or fill them in (tunelab does not impute).")
    values = [parse_number(cell) for cell in cells]
    if all(value is not None for value in values):
        for line, cell, value in zip(lines, cells, values):
            if not math.isfinite(value):
                raise DataFileError(f"target {name!r} is not finite: line {line} of {path!r} has {cell!r}.")
        return np.array(values, dtype=np.float64)
    return np.array(cells, dtype=str)

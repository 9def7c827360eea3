"""The cleaning rules of PriceDrop, for AWS Glue: the same rules as pipeline/etl/price-rules.ts.

docs/etl-rules.md states them; test/vectors/*.json checks both implementations
(``python3 -m unittest discover -s glue -p 'test_*.py'``). Pure Python 3.11, no Spark: the Glue
job (glue/clean_observations.py) calls these functions from its Spark stages.

Parsing is explicit (own regexes, own rounding, own date arithmetic) so that every result is the
same, bit for bit, as the TypeScript engine's.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Iterable

RAW_COLUMNS = ("product_id", "title", "category", "price", "old_price", "currency", "source", "observed_at")

# Why a row was quarantined; checked in this order (identical strings in price-rules.ts).
REASON_CODES = (
    "MALFORMED_CSV",
    "MISSING_PRODUCT_ID",
    "MISSING_PRICE",
    "INVALID_PRICE",
    "INVALID_OLD_PRICE",
    "INVALID_TIMESTAMP",
    "FUTURE_TIMESTAMP",
    "MISSING_SOURCE",
    "INVALID_CURRENCY",
)

DEFAULT_MIN_DROP_PCT = 0.01
DEFAULT_FUTURE_TOLERANCE_MS = 15 * 60 * 1000

_WS = " \t\n\v\f\r\u00a0"
_RUNS = re.compile("[" + re.escape(_WS) + "]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?)?(?:[ ]?([Zz]|[+-][0-9]{2}(?::?[0-9]{2})?))?"
)
_CURRENCY = re.compile(r"[A-Z]{3}")
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_MIN_MS = 0  # 1970-01-01T00:00:00.000Z
_MAX_MS = 253402300799999  # 9999-12-31T23:59:59.999Z
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _load_synonyms() -> dict[str, str]:
    # In the repository it sits with the TypeScript rules (pipeline/base); in Glue, --extra-files
    # puts it in the working folder.
    here = os.path.dirname(os.path.abspath(__file__))
    for folder in (here, os.getcwd(), os.path.join(here, "..", "pipeline", "base")):
        path = os.path.join(folder, "category_synonyms.json")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                table = json.load(handle)
            return {key: value for key, value in table.items() if key != "_comment"}
    raise FileNotFoundError("category_synonyms.json not found next to price_rules.py, in the working folder or in pipeline/base")


SYNONYMS = _load_synonyms()


def trim_text(value: str) -> str:
    """Trims the rule whitespace (space, tab, line breaks, NBSP) at both ends."""
    return value.strip(_WS)


def collapse_text(value: str) -> str:
    """Trims and collapses inner runs of whitespace to one space."""
    return _RUNS.sub(" ", trim_text(value))


def normalize_category(raw: str) -> str:
    """Collapse whitespace, lower-case, map synonyms, else capitalise the first letter of each word."""
    key = collapse_text(raw).lower()
    mapped = SYNONYMS.get(key)
    if mapped is not None:
        return mapped
    return " ".join(word[:1].upper() + word[1:] for word in key.split(" "))


def parse_number(raw: str) -> float | None:
    text = trim_text(raw)
    if not _NUMBER.fullmatch(text):
        return None
    return float(text)


def _is_leap(year: int) -> bool:
    return (year % 4 == 0 and year % 100 != 0) or year % 400 == 0


def _days_from_civil(year: int, month: int, day: int) -> int:
    y = year - 1 if month <= 2 else year
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def parse_timestamp(raw: str) -> int | None:
    """ISO 8601 (date, optional time, fraction, Z/+-hh[:mm]; no zone = UTC) to epoch ms, or None."""
    match = _TIMESTAMP.fullmatch(trim_text(raw))
    if not match:
        return None
    year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3))
    hour = int(match.group(4)) if match.group(4) is not None else 0
    minute = int(match.group(5)) if match.group(5) is not None else 0
    second = int(match.group(6)) if match.group(6) is not None else 0
    millis = int((match.group(7) + "00")[:3]) if match.group(7) is not None else 0
    if month < 1 or month > 12:
        return None
    month_days = 29 if month == 2 and _is_leap(year) else _DAYS_IN_MONTH[month - 1]
    if day < 1 or day > month_days or hour > 23 or minute > 59 or second > 59:
        return None
    offset_minutes = 0
    zone = match.group(8)
    if zone is not None and zone not in ("Z", "z"):
        digits = zone[1:].replace(":", "")
        offset_hours = int(digits[:2])
        offset_mins = int(digits[2:4]) if len(digits) > 2 else 0
        if offset_hours > 23 or offset_mins > 59:
            return None
        offset_minutes = (-1 if zone[0] == "-" else 1) * (offset_hours * 60 + offset_mins)
    ms = _days_from_civil(year, month, day) * 86400000 + hour * 3600000 + minute * 60000 + second * 1000 + millis - offset_minutes * 60000
    if ms < _MIN_MS or ms > _MAX_MS:
        return None
    return ms


def format_timestamp(ms: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS.sssZ`` of epoch ms."""
    moment = _EPOCH + timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ms % 1000)


def round_half_away(value: float, decimals: int) -> float:
    """sign(x) * floor(|x| * 10^d + 0.5) / 10^d in IEEE doubles, as in TypeScript."""
    scale = 10**decimals
    rounded = math.floor(abs(value) * scale + 0.5) / scale
    return float(-rounded if value < 0 else rounded) + 0.0


def validate_fields(fields: list[str], now_ms: int, future_tolerance_ms: int = DEFAULT_FUTURE_TOLERANCE_MS) -> tuple[dict | None, str | None]:
    """One raw record (RAW_COLUMNS order) -> (row, None) or (None, reason code)."""
    if len(fields) != len(RAW_COLUMNS):
        return None, "MALFORMED_CSV"
    raw_id, raw_title, raw_category, raw_price, raw_old_price, raw_currency, raw_source, raw_observed_at = fields
    product_id = trim_text(raw_id)
    if product_id == "":
        return None, "MISSING_PRODUCT_ID"
    price_text = trim_text(raw_price)
    if price_text == "":
        return None, "MISSING_PRICE"
    price = parse_number(price_text)
    if price is None or not math.isfinite(price) or price <= 0:
        return None, "INVALID_PRICE"
    old_price = None
    old_price_text = trim_text(raw_old_price)
    if old_price_text != "":
        parsed = parse_number(old_price_text)
        if parsed is None or not math.isfinite(parsed) or parsed <= 0:
            return None, "INVALID_OLD_PRICE"
        old_price = parsed
    observed_ms = parse_timestamp(raw_observed_at)
    if observed_ms is None:
        return None, "INVALID_TIMESTAMP"
    if observed_ms > now_ms + future_tolerance_ms:
        return None, "FUTURE_TIMESTAMP"
    source = trim_text(raw_source)
    if source == "":
        return None, "MISSING_SOURCE"
    currency = trim_text(raw_currency).upper()
    if not _CURRENCY.fullmatch(currency):
        return None, "INVALID_CURRENCY"
    observed_at = format_timestamp(observed_ms)
    return {
        "source": source,
        "product_id": product_id,
        "observed_at": observed_at,
        "observed_ms": observed_ms,
        "dt": observed_at[:10],
        "title": collapse_text(raw_title),
        "category": normalize_category(raw_category),
        "price": price,
        "old_price": old_price,
        "currency": currency,
    }, None


def compute_drop(price: float, old_price: float | None, min_drop_pct: float = DEFAULT_MIN_DROP_PCT) -> dict:
    """drop_amount (4 decimals), drop_pct (2 decimals), is_drop, drop_label; no drop without old_price."""
    if old_price is None:
        return {"old_price": None, "drop_amount": None, "drop_pct": None, "is_drop": False, "drop_label": "no drop"}
    drop_amount = round_half_away(old_price - price, 4)
    drop_pct = round_half_away((100 * drop_amount) / old_price, 2)
    is_drop = drop_pct >= min_drop_pct
    return {"old_price": old_price, "drop_amount": drop_amount, "drop_pct": drop_pct, "is_drop": is_drop, "drop_label": "drop" if is_drop else "no drop"}


def header_indexes(header: list[str]) -> list[int] | None:
    """Index of each RAW_COLUMNS name in a header (trimmed, case-insensitive, BOM ignored), or None."""
    names = [trim_text(name.lstrip("\ufeff") if i == 0 else name).lower() for i, name in enumerate(header)]
    indexes = []
    for column in RAW_COLUMNS:
        if column not in names:
            return None
        indexes.append(names.index(column))
    return indexes


@dataclass
class CsvRecord:
    fields: list[str]
    raw: str
    line: int
    malformed: bool


def split_records(text: str) -> list[CsvRecord]:
    """RFC 4180 records of a whole CSV text, split exactly as pipeline/base/csv-records.ts does.

    Blank lines are not records. A quote inside an unquoted field or text after a closing quote
    makes the record malformed up to the end of that physical line; an unterminated quote makes
    the rest of the text one malformed record.
    """
    records: list[CsvRecord] = []
    pos, length, line = 0, len(text), 1
    while pos < length:
        newline = text.find("\n", pos)
        line_end = length if newline == -1 else newline
        quote = text.find('"', pos, line_end)
        if quote == -1:
            content_end = line_end - 1 if line_end > pos and text[line_end - 1] == "\r" else line_end
            if content_end > pos:
                raw = text[pos:content_end]
                records.append(CsvRecord(raw.split(","), raw, line, False))
            line += 1
            pos = length if newline == -1 else newline + 1
            continue
        record, pos, line = _slow_record(text, pos, line)
        records.append(record)
    return records


def _slow_record(text: str, start: int, line: int) -> tuple[CsvRecord, int, int]:
    fields: list[str] = []
    chars: list[str] = []
    i, lines, length = start, 0, len(text)
    field_start, quoted = True, False
    malformed_at = -1
    while True:
        if i >= length:
            if quoted:
                return _malformed(text, start, length, line)
            fields.append("".join(chars))
            return CsvRecord(fields, text[start:length], line, False), length, line + lines + 1
        c = text[i]
        if quoted:
            if c == '"':
                if i + 1 < length and text[i + 1] == '"':
                    chars.append('"')
                    i += 2
                    continue
                quoted = False
                i += 1
                after = text[i] if i < length else ""
                if after not in (",", "\n", "\r", ""):
                    malformed_at = i
                    break
                continue
            if c == "\n":
                lines += 1
            chars.append(c)
            i += 1
            continue
        if c == '"':
            if not field_start:
                malformed_at = i
                break
            quoted = True
            field_start = False
            i += 1
            continue
        if c == ",":
            fields.append("".join(chars))
            chars = []
            field_start = True
            i += 1
            continue
        if c == "\n" or (c == "\r" and i + 1 < length and text[i + 1] == "\n"):
            fields.append("".join(chars))
            nxt = i + 2 if c == "\r" else i + 1
            return CsvRecord(fields, text[start:i], line, False), nxt, line + lines + 1
        chars.append(c)
        field_start = False
        i += 1
    nl = text.find("\n", malformed_at)
    return _malformed(text, start, length if nl == -1 else nl, line)


def _malformed(text: str, start: int, end: int, line: int) -> tuple[CsvRecord, int, int]:
    content_end = end - 1 if end > start and text[end - 1] == "\r" else end
    raw = text[start:content_end]
    nxt = end + 1 if end < len(text) else end
    return CsvRecord([], raw, line, True), nxt, line + raw.count("\n") + 1


@dataclass
class BatchResult:
    read: int = 0
    cleaned: list[dict] = field(default_factory=list)
    duplicates: int = 0
    quarantined: list[tuple[int, str, str]] = field(default_factory=list)  # (line, reason, raw)


class Cleaner:
    """The rules over successive raw batches, in memory: the reference engine for the vectors.

    Rows are processed in order; dedup on (source, product_id, observed_at), first row wins;
    old_price falls back to the product's latest earlier observation (earlier batches included).
    """

    def __init__(self, now_ms: int, min_drop_pct: float = DEFAULT_MIN_DROP_PCT, future_tolerance_ms: int = DEFAULT_FUTURE_TOLERANCE_MS):
        self.now_ms = now_ms
        self.min_drop_pct = min_drop_pct
        self.future_tolerance_ms = future_tolerance_ms
        self._seen: set[tuple[str, str, str]] = set()
        self._latest: dict[tuple[str, str], tuple[int, float]] = {}
        self._history: dict[tuple[str, str], list[tuple[int, float]]] = {}

    def previous_price(self, source: str, product_id: str, observed_ms: int) -> float | None:
        """Price of the product's latest observation strictly before observed_ms, or None."""
        key = (source, product_id)
        latest = self._latest.get(key)
        if latest is None:
            return None
        if latest[0] < observed_ms:
            return latest[1]
        earlier = [entry for entry in self._history.get(key, []) if entry[0] < observed_ms]
        return max(earlier)[1] if earlier else None

    def clean_text(self, text: str) -> BatchResult:
        result = BatchResult()
        records = split_records(text)
        if not records:
            return result
        header, rows = records[0], records[1:]
        indexes = None if header.malformed else header_indexes(header.fields)
        width = len(header.fields)
        identity = indexes is not None and width == len(RAW_COLUMNS) and indexes == list(range(len(RAW_COLUMNS)))
        for record in rows:
            result.read += 1
            if record.malformed or indexes is None or len(record.fields) != width:
                result.quarantined.append((record.line, "MALFORMED_CSV", record.raw))
                continue
            fields = record.fields if identity else [record.fields[i] for i in indexes]
            row, reason = validate_fields(fields, self.now_ms, self.future_tolerance_ms)
            if row is None:
                result.quarantined.append((record.line, reason, record.raw))
                continue
            cleaned = self.clean_row(row)
            if cleaned is None:
                result.duplicates += 1
            else:
                result.cleaned.append(cleaned)
        return result

    def clean_row(self, row: dict) -> dict | None:
        """Dedup, old_price fallback and drop columns for a validated row; None for a duplicate."""
        dedup_key = (row["source"], row["product_id"], row["observed_at"])
        if dedup_key in self._seen:
            return None
        self._seen.add(dedup_key)
        old_price = row["old_price"]
        if old_price is None:
            old_price = self.previous_price(row["source"], row["product_id"], row["observed_ms"])
        key = (row["source"], row["product_id"])
        self._history.setdefault(key, []).append((row["observed_ms"], row["price"]))
        latest = self._latest.get(key)
        if latest is None or row["observed_ms"] > latest[0]:
            self._latest[key] = (row["observed_ms"], row["price"])
        drop = compute_drop(row["price"], old_price, self.min_drop_pct)
        out = {name: row[name] for name in ("source", "product_id", "observed_at", "dt", "title", "category", "price", "currency")}
        out.update(drop)
        return out


def clean_batches(texts: Iterable[str], now_ms: int, min_drop_pct: float = DEFAULT_MIN_DROP_PCT) -> list[BatchResult]:
    cleaner = Cleaner(now_ms, min_drop_pct)
    return [cleaner.clean_text(text) for text in texts]

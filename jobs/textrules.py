"""The text rules, defined once: decoding, Gutenberg boilerplate stripping, tokenization, stop words.

Pure Python with no Spark or Luigi import. The pipeline builds the Parquet corpus with `read_book`;
every word-count engine tokenizes with `WORD_PATTERN` (the Spark job hands the same string to Java's
regex engine); the tests check each rule here without Spark.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import regex

UTF8_BOM = b"\xef\xbb\xbf"

# Bytes 0x80-0x9F read as latin-1 are C1 controls; cp1252 puts punctuation there, except the five bytes
# it leaves undefined, which the rules keep as the code point of the same value. Python's cp1252 codec
# calls this handler for those five only, so a book decodes in C (a str.translate from latin-1 took
# 0.4 s for a 2 MB book).
CP1252_HOLES = (0x81, 0x8D, 0x8F, 0x90, 0x9D)
CP1252_ERRORS = "gutenberg-wordcount-cp1252-holes"


def _keep_cp1252_holes(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return "".join(chr(b) for b in error.object[error.start : error.end]), error.end


codecs.register_error(CP1252_ERRORS, _keep_cp1252_holes)

# Valid in Python's `regex` and in java.util.regex alike, so every engine splits text the same way.
WORD_PATTERN = r"[\p{L}\p{M}]+(?:['’][\p{L}\p{M}]+)*"
WORD_RE = regex.compile(WORD_PATTERN)
APOSTROPHE_FROM = "’"
APOSTROPHE_TO = "'"

START_RE = re.compile(r"^\*+\s*START\s+OF\s+(THE|THIS)\s+PROJECT\s+GUTENBERG\s+E-?BOOK", re.IGNORECASE)
SMALL_PRINT_RE = re.compile(r"\*END\*?\s*THE SMALL PRINT", re.IGNORECASE)
END_RE = re.compile(
    r"^\*+\s*END\s+OF\s+(THE|THIS)\s+PROJECT\s+GUTENBERG\s+E-?BOOK"
    r"|^End\s+of\s+(the\s+|this\s+)?Project\s+Gutenberg",
    re.IGNORECASE,
)
LANGUAGE_RE = re.compile(r"^Language:\s*(\S.*?)\s*$", re.IGNORECASE)
# A START marker split over lines ends on one of the next three lines ending in `***`.
START_CONTINUATION_LINES = 3

# Bytes no text file holds: the C0 controls except tab, LF, VT, FF, CR and SUB (Ctrl-Z, the DOS end-of-file
# mark some old Gutenberg files end with), and DEL. A book with more than BINARY_CONTROL_SHARE of them is
# binary (random bytes: 27 in 256, 10.5%; UTF-16 text: every other byte NUL) and is not decoded at all.
CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1A), *range(0x1B, 0x20), 0x7F])
BINARY_CONTROL_SHARE = 0.05

STOPWORDS_DIR = Path(__file__).resolve().parent / "stopwords"
BUILTIN_STOPWORDS = ("english", "none")


def decode(data: bytes) -> tuple[str, str]:
    """Decode raw book bytes; returns the text and the encoding used (`utf-8-sig`, `utf-8`, `cp1252`).

    After a BOM the bytes are UTF-8 by declaration, so invalid sequences there become U+FFFD rather
    than switching the whole book to cp1252.
    """
    if data.startswith(UTF8_BOM):
        return data[len(UTF8_BOM) :].decode("utf-8", errors="replace"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors=CP1252_ERRORS), "cp1252"


def control_bytes(data: bytes) -> int:
    """How many of `data`'s bytes are CONTROL_BYTES (NUL included)."""
    return len(data) - len(data.translate(None, CONTROL_BYTES))


def binary_reason(data: bytes) -> str | None:
    """Why `data` is not a text (more than BINARY_CONTROL_SHARE control bytes), or None if it is one."""
    count = control_bytes(data)
    if not data or count <= BINARY_CONTROL_SHARE * len(data):
        return None
    return f"binary: {count} of {len(data)} bytes ({100 * count / len(data):.1f}%) are control bytes"


def normalize(text: str) -> str:
    """Turn CRLF and lone CR into LF, then normalise to NFC."""
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


@dataclass(frozen=True)
class Body:
    """The book between its Gutenberg header and footer."""

    text: str
    start_marker: bool
    end_marker: bool
    header: tuple[str, ...]


def _find_start(lines: list[str]) -> int | None:
    """Index of the last line of the start marker, or None."""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if START_RE.match(stripped):
            if stripped.endswith("***"):
                return i
            for j in range(i + 1, min(i + 1 + START_CONTINUATION_LINES, len(lines))):
                if lines[j].strip().endswith("***"):
                    return j
            return i
        if SMALL_PRINT_RE.search(stripped):
            return i
    return None


def strip_boilerplate(text: str) -> Body:
    """Cut the Project Gutenberg header and footer from normalised text (lines split on `\\n` only)."""
    lines = text.split("\n")
    marker = _find_start(lines)
    begin = 0 if marker is None else marker + 1
    end = next((i for i in range(begin, len(lines)) if END_RE.match(lines[i].strip())), None)
    return Body(
        text="\n".join(lines[begin : len(lines) if end is None else end]),
        start_marker=marker is not None,
        end_marker=end is not None,
        header=tuple(lines[: begin if marker is not None else 0]),
    )


def tokenize(text: str) -> Iterator[str]:
    """Yield the words of `text`: pattern matches, lowercased, with `’` as `'`."""
    for match in WORD_RE.finditer(text):
        yield match.group().lower().replace(APOSTROPHE_FROM, APOSTROPHE_TO)


# Lowercasing maps a letter or mark to letters and marks and anything else to non-letters, so lowercasing
# the whole text and then matching gives the same words as `tokenize`, except around a capital sigma:
# its lowercase (σ or final ς) depends on the characters next to it, which differ once the token is cut
# out. Texts with a capital sigma take the per-token path. Every engine uses the same shortcut.
CONTEXT_CASED = "Σ"


def words(text: str) -> list[str]:
    """The words of `text`, exactly as `tokenize` yields them, in one regex pass over lowercased text."""
    if CONTEXT_CASED in text:
        return list(tokenize(text))
    return WORD_RE.findall(text.lower().replace(APOSTROPHE_FROM, APOSTROPHE_TO))


# Lines a MapReduce mapper tokenizes together: a token never spans a line break, so the words of lines
# joined by newlines are the words of each line, for one `words` call (and one Counter.update) per batch.
BATCH_LINES = 512


def count_words(texts: Iterable[str]) -> Counter[str]:
    """Count the words of several texts (the reference every engine is tested against)."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(tokenize(text))
    return counts


@dataclass(frozen=True)
class Book:
    """A decoded, normalised and stripped book with the facts the corpus keeps about it."""

    body: str
    encoding: str
    language: str
    start_marker: bool
    end_marker: bool
    raw_bytes: int
    raw_lines: int
    body_lines: int


def read_book(data: bytes) -> Book:
    """Apply the decoding, normalisation and stripping rules to one book's raw bytes."""
    decoded, encoding = decode(data)
    text = normalize(decoded)
    body = strip_boilerplate(text)
    language = next((m.group(1) for m in map(LANGUAGE_RE.match, body.header) if m is not None), "unknown")
    return Book(
        body=body.text,
        encoding=encoding,
        language=language,
        start_marker=body.start_marker,
        end_marker=body.end_marker,
        raw_bytes=len(data),
        raw_lines=text.count("\n") + (0 if text.endswith("\n") or not text else 1),
        body_lines=body.text.count("\n") + 1 if body.text else 0,
    )


def no_words_reason(book: Book) -> str | None:
    """Why a book has nothing to count (empty body, or no word in it), or None if it has a word."""
    if not book.body.strip():
        return "no words: empty after stripping the Gutenberg header and footer"
    if WORD_RE.search(book.body) is None:
        return f"no words: none in {len(book.body)} body characters"
    return None


def normalize_word(word: str) -> str:
    """Bring a stop word to the form tokens have (NFC, lowercase, `'` apostrophe)."""
    return unicodedata.normalize("NFC", word.strip()).lower().replace(APOSTROPHE_FROM, APOSTROPHE_TO)


def stopwords_path(spec: str) -> Path | None:
    """The file behind a `stopwords` value: a built-in list name or a path; None for `none`."""
    if spec == "none":
        return None
    if spec == "english":
        return STOPWORDS_DIR / "english.txt"
    return Path(spec)


def load_stopwords(spec: str) -> frozenset[str]:
    """Stop words for `english` (Spark ML's list), `none`, or a one-word-a-line file path."""
    path = stopwords_path(spec)
    if path is None:
        return frozenset()
    if not path.is_file():
        raise FileNotFoundError(f"stop-word file {path}: no such file")
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(normalize_word(line) for line in lines if line.strip())


# --- stop-word language -------------------------------------------------------------------------------

# The lists Spark ML ships (`StopWordsRemover.loadDefaultStopWords`), checked against pyspark 4.3.
SPARK_STOPWORD_LISTS = (
    "danish", "dutch", "english", "finnish", "french", "german", "hungarian",
    "italian", "norwegian", "portuguese", "russian", "spanish", "swedish", "turkish",
)  # fmt: skip

# Book headers name the language ("French"); catalogue records give ISO 639-1 codes ("fr"). Both map to the
# Spark list; Norwegian's covers Bokmål (nb) and marks the Nynorsk-only (nn) words it holds.
_ISO_639_1 = {
    "da": "danish", "nl": "dutch", "en": "english", "fi": "finnish", "fr": "french", "de": "german",
    "hu": "hungarian", "it": "italian", "no": "norwegian", "nb": "norwegian", "nn": "norwegian",
    "pt": "portuguese", "ru": "russian", "es": "spanish", "sv": "swedish", "tr": "turkish",
}  # fmt: skip
STOPWORD_LANGUAGES: dict[str, str] = {**{name: name for name in SPARK_STOPWORD_LISTS}, **_ISO_639_1}

# Splits a value naming several languages ("English, French", "English and French", "English; Latin").
# Explicit blanks rather than `\s`: Python's `\s` matches Unicode spaces, Java's only ASCII ones; no `\b`
# or `(?i)` for the same reason. The pattern means the same to `re` and to java.util.regex (F.split).
LANGUAGE_SEPARATOR = r"[ \t]*[,;/&][ \t]*|[ \t]+[Aa]nd[ \t]+"
LANGUAGE_SEPARATOR_RE = re.compile(LANGUAGE_SEPARATOR)
# What is trimmed off the first language: the characters Spark's `trim(col, LANGUAGE_BLANKS)` removes.
LANGUAGE_BLANKS = " \t"


def stopword_language(language: str | None) -> str | None:
    """The Spark stop-word list for a `Language:` value (its first language), or None if it has none."""
    if not language:
        return None
    first = LANGUAGE_SEPARATOR_RE.split(language, maxsplit=1)[0]
    return STOPWORD_LANGUAGES.get(first.strip(LANGUAGE_BLANKS).lower())

"""The text rules on broken books: kept as text, or refused as binary or wordless, with the reason."""

from __future__ import annotations

from collections import Counter

from jobs import textrules
from jobs.textrules import binary_reason, no_words_reason, read_book, tokenize
from tests.bad_books import BINARY, DIGITS, EMPTY, LONG_LINE, MIXED, NUL, control_count


def test_empty_after_stripping_has_no_words() -> None:
    parsed = read_book(EMPTY)
    assert (parsed.body, parsed.body_lines, parsed.encoding) == ("\n\n   \n", 4, "utf-8")
    assert list(tokenize(parsed.body)) == []
    assert binary_reason(EMPTY) is None
    assert no_words_reason(parsed) == "no words: empty after stripping the Gutenberg header and footer"


def test_binary_garbage_is_detected_by_its_control_bytes() -> None:
    count = control_count(BINARY)
    assert count == textrules.control_bytes(BINARY)
    assert 0.09 < count / len(BINARY) < 0.12  # random bytes: 27 in 256
    assert binary_reason(BINARY) == (
        f"binary: {count} of 20000 bytes ({100 * count / 20000:.1f}%) are control bytes"
    )


def test_one_nul_byte_is_text_and_separates_words() -> None:
    assert control_count(NUL) == 1
    assert binary_reason(NUL) is None
    parsed = read_book(NUL)
    assert (parsed.body, parsed.encoding) == ("The cat\x00sat on the mat.", "utf-8")
    assert list(tokenize(parsed.body)) == ["the", "cat", "sat", "on", "the", "mat"]
    assert no_words_reason(parsed) is None


def test_control_share_threshold() -> None:
    assert binary_reason(b"a" * 95 + b"\x00" * 5) is None  # 5%: still text
    assert binary_reason(b"a" * 94 + b"\x00" * 6) == "binary: 6 of 100 bytes (6.0%) are control bytes"
    assert binary_reason(b"\t\n\x0b\x0c\r\x1a" * 10) is None  # whitespace and Ctrl-Z are not controls here
    assert (
        binary_reason("utf-16 text".encode("utf-16-le")) == "binary: 11 of 22 bytes (50.0%) are control bytes"
    )
    assert binary_reason(b"") is None


def test_fifty_megabyte_single_line() -> None:
    assert binary_reason(LONG_LINE) is None
    parsed = read_book(LONG_LINE)
    assert parsed.body == "word " * 10_000_000
    assert (len(parsed.body), parsed.body_lines, parsed.start_marker, parsed.end_marker) == (
        50_000_000,
        1,
        True,
        True,
    )
    assert Counter(tokenize(parsed.body)) == {"word": 10_000_000}


def test_mixed_utf8_and_cp1252_decodes_whole_file_as_cp1252() -> None:
    parsed = read_book(MIXED)
    assert parsed.encoding == "cp1252"
    assert parsed.body == "CafÃ© naÃ¯ve “quoted” café"
    assert list(tokenize(parsed.body)) == ["cafã", "naã", "ve", "quoted", "café"]


def test_all_digits_has_no_words() -> None:
    parsed = read_book(DIGITS)
    assert (len(parsed.body), parsed.body_lines) == (26_000, 1001)
    assert list(tokenize(parsed.body)) == []
    assert no_words_reason(parsed) == "no words: none in 26000 body characters"

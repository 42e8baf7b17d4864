"""Broken books, written here (never copied from the mirror): the text rules judge them in
tests/unit/test_textrules_bad_books.py, and the pipeline keeps or skips them in
tests/integration/test_bad_input.py."""

from __future__ import annotations

import random


def book(body: bytes, name: bytes = b"TEST") -> bytes:
    """A Gutenberg-style file around `body`: header, start marker, body, end marker, license."""
    return (
        b"The Project Gutenberg eBook of " + name + b"\n\nTitle: " + name + b"\nLanguage: English\n\n"
        b"*** START OF THE PROJECT GUTENBERG EBOOK " + name + b" ***\n" + body + b"\n"
        b"*** END OF THE PROJECT GUTENBERG EBOOK " + name + b" ***\nSome license words.\n"
    )


EMPTY = book(b"\n\n   \n")
BINARY = random.Random(2026).randbytes(20_000)
NUL = book(b"The cat\x00sat on the mat.")
LONG_LINE = book(b"word " * 10_000_000)  # one 50,000,000-byte line
MIXED = book("Café naïve ".encode() + b"\x93quoted\x94 caf\xe9")  # UTF-8 with cp1252 bytes: invalid UTF-8
DIGITS = book(b"3.14159 26535 89793 23846\n" * 1000)
PLAIN = book(b"It was the best of times,\nit was the worst of times.")


def control_count(data: bytes) -> int:
    """Control bytes counted one by one (the rule: C0 except TAB LF VT FF CR SUB, and DEL)."""
    return sum(1 for b in data if b <= 0x08 or 0x0E <= b <= 0x19 or 0x1B <= b <= 0x1F or b == 0x7F)

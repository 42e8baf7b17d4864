"""pipeline/params.py: a book id is a positive int before any path or URL is built from it."""

from __future__ import annotations

import pytest

from pipeline.fetch import DownloadBook


@pytest.mark.parametrize("bad", [-1, 0, "../x", "7", "1/../../etc", 1.0, True, None, 10**9 + 1])
def test_download_book_refuses_anything_but_a_positive_int(bad: object) -> None:
    with pytest.raises(ValueError):
        DownloadBook(book_id=bad)


@pytest.mark.parametrize("text", ["-1", "0", "../x", "1/../2", "٣", "1e3", "0x10", "1_000", ""])
def test_book_id_on_the_command_line_is_plain_positive_decimal(text: str) -> None:
    param = dict(DownloadBook.get_params())["book_id"]
    with pytest.raises(ValueError):
        param.parse(text)


def test_book_id_accepted_values() -> None:
    param = dict(DownloadBook.get_params())["book_id"]
    assert param.parse("84") == 84
    assert DownloadBook(book_id=1).book_id == 1
    assert DownloadBook(book_id=10**9).book_id == 10**9

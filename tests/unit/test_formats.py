"""pipeline/formats.py on literal data: the text export the MapReduce engines read."""

from __future__ import annotations

import pytest

from jobs import textrules
from pipeline import formats


@pytest.mark.mapreduce
def test_text_export_keeps_every_token_on_its_line() -> None:
    text = "One line\n\n   \nTwo: words’ here\nlast"
    assert list(formats.text_lines(text)) == ["One line\n", "Two: words’ here\n", "last\n"]
    assert textrules.count_words(formats.text_lines(text)) == textrules.count_words([text])

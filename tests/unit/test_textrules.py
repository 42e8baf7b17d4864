"""The text rules, without Spark, on fixtures written here."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
import regex

from jobs import textrules
from jobs.textrules import count_words, decode, normalize, read_book, strip_boilerplate, tokenize
from tests.support import mirror_book_ids, mirror_dir

# --- decoding ---------------------------------------------------------------------------------------


def test_bom_is_dropped_and_rest_is_utf8() -> None:
    assert decode(b"\xef\xbb\xbfcaf\xc3\xa9 \xe2\x80\x99") == ("café ’", "utf-8-sig")


def test_bom_followed_by_invalid_utf8_keeps_utf8_with_replacement() -> None:
    assert decode(b"\xef\xbb\xbfna\xefve") == ("na\ufffdve", "utf-8-sig")


def test_valid_utf8_without_bom() -> None:
    assert decode("Müller ñ 東京".encode()) == ("Müller ñ 東京", "utf-8")


def test_ascii_is_utf8() -> None:
    assert decode(b"plain text") == ("plain text", "utf-8")


def test_latin1_bytes_fall_back_to_cp1252() -> None:
    # ISO-8859-1 Faust: "Tragödie" with ö as the single byte 0xF6.
    assert decode(b"Trag\xf6die \xe9t\xe9") == ("Tragödie été", "cp1252")


def test_cp1252_punctuation_bytes() -> None:
    assert decode(b"\x93quoted\x94 \x92tis \x80 5 \x96 6 \x85") == ("“quoted” ’tis € 5 – 6 …", "cp1252")


def test_the_five_cp1252_holes_become_the_same_code_points() -> None:
    text, encoding = decode(b"\xe9\x81\x8d\x8f\x90\x9d")
    assert encoding == "cp1252"
    assert [ord(c) for c in text] == [0xE9, 0x81, 0x8D, 0x8F, 0x90, 0x9D]


def test_every_byte_decodes_to_one_character() -> None:
    text, encoding = decode(bytes(range(256)))
    assert encoding == "cp1252"
    assert len(text) == 256


def cp1252_by_table(data: bytes) -> str:
    """The rule written out byte by byte: cp1252's character, or the byte's own code point in a hole."""
    holes = {0x81, 0x8D, 0x8F, 0x90, 0x9D}
    return "".join(chr(b) if b in holes else bytes([b]).decode("cp1252") for b in data)


def test_cp1252_decoding_is_the_byte_table_for_every_byte_and_mirror_book() -> None:
    every = bytes(range(256)) * 3
    assert decode(every) == (cp1252_by_table(every), "cp1252")
    decoded = 0
    for book_id in mirror_book_ids():
        data = (mirror_dir() / "cache" / "epub" / str(book_id) / f"pg{book_id}.txt").read_bytes()
        text, encoding = decode(data)
        if encoding == "cp1252":
            assert text == cp1252_by_table(data)
            decoded += 1
    assert decoded == 3  # pg2000, pg2229 and pg17989 are not UTF-8


# --- newlines and NFC -------------------------------------------------------------------------------


def test_crlf_cr_and_cr_cr_lf() -> None:
    assert normalize("a\r\nb\rc\r\r\nd\n") == "a\nb\nc\n\nd\n"


def test_nfd_input_is_composed() -> None:
    nfd = unicodedata.normalize("NFD", "café Ångström")
    assert len(nfd) == 16  # é, Å and ö each decompose into two code points
    assert normalize(nfd) == "café Ångström"


# --- boilerplate ------------------------------------------------------------------------------------

HEADER = "The Project Gutenberg EBook of Test\n\nTitle: Test\nLanguage: English\n"


def test_standard_markers() -> None:
    text = (
        HEADER + "*** START OF THIS PROJECT GUTENBERG EBOOK TEST ***\nbody one\nbody two\n"
        "*** END OF THIS PROJECT GUTENBERG EBOOK TEST ***\nlicense words\n"
    )
    body = strip_boilerplate(text)
    assert (body.text, body.start_marker, body.end_marker) == ("body one\nbody two", True, True)


def test_markers_without_spaces_and_of_the() -> None:
    text = (
        "***START OF THE PROJECT GUTENBERG EBOOK JANE EYRE***\nReader, I married him.\n"
        "***END OF THE PROJECT GUTENBERG EBOOK JANE EYRE***\n"
    )
    body = strip_boilerplate(text)
    assert (body.text, body.start_marker, body.end_marker) == ("Reader, I married him.", True, True)


def test_markers_are_case_insensitive_and_accept_e_book_and_indent() -> None:
    text = "  *** start of this project gutenberg e-book x ***  \nword\n   end of this project gutenberg x"
    assert strip_boilerplate(text).text == "word"


def test_start_marker_split_over_two_lines() -> None:
    text = (
        "header\n*** START OF THIS PROJECT GUTENBERG EBOOK\nTHE STRANGE CASE OF DR. JEKYLL AND MR. HYDE ***\n"
        "\nStory\n*** END OF THIS PROJECT GUTENBERG EBOOK\n"
    )
    body = strip_boilerplate(text)
    assert body.text == "\nStory"
    assert body.start_marker


def test_start_marker_continues_to_third_following_line_at_most() -> None:
    within = "*** START OF THIS PROJECT GUTENBERG EBOOK\nA\nB\nC ***\nbody\n"
    assert strip_boilerplate(within).text == "body\n"
    beyond = "*** START OF THIS PROJECT GUTENBERG EBOOK\nA\nB\nC\nD ***\nbody\n"
    assert strip_boilerplate(beyond).text == "A\nB\nC\nD ***\nbody\n"


def test_1990s_small_print_header() -> None:
    text = (
        "Project Gutenberg's Etext of Something\n"
        "*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*\n"
        "Chapter 1\nIt was.\n"
        "End of Project Gutenberg's Etext of Something\n"
    )
    body = strip_boilerplate(text)
    assert (body.text, body.start_marker, body.end_marker) == ("Chapter 1\nIt was.", True, True)


def test_end_of_the_project_gutenberg_line_ends_body_before_star_marker() -> None:
    text = (
        "*** START OF THIS PROJECT GUTENBERG EBOOK X ***\nthe end\n\n"
        "End of the Project Gutenberg EBook of X, by Y\n\n*** END OF THIS PROJECT GUTENBERG EBOOK X ***\n"
    )
    assert strip_boilerplate(text).text == "the end\n"


def test_no_end_marker_keeps_the_rest() -> None:
    body = strip_boilerplate("*** START OF THIS PROJECT GUTENBERG EBOOK X ***\nall\nof it\n")
    assert (body.text, body.start_marker, body.end_marker) == ("all\nof it\n", True, False)


def test_no_start_marker_begins_on_first_line() -> None:
    body = strip_boilerplate("first line\nsecond\n*** END OF THIS PROJECT GUTENBERG EBOOK X ***\nlicense\n")
    assert (body.text, body.start_marker, body.end_marker) == ("first line\nsecond", False, True)


def test_no_markers_at_all() -> None:
    body = strip_boilerplate("just a text\n")
    assert (body.text, body.start_marker, body.end_marker) == ("just a text\n", False, False)


def test_end_marker_before_start_marker_is_ignored() -> None:
    text = (
        "*** END OF THIS PROJECT GUTENBERG EBOOK X ***\n"
        "*** START OF THIS PROJECT GUTENBERG EBOOK X ***\nbody\n"
    )
    assert strip_boilerplate(text).text == "body\n"


# --- words ------------------------------------------------------------------------------------------


def test_words_apostrophes_hyphens_underscores_digits() -> None:
    text = "Don’t stop: well-known _italic_ 1984 abc123def l'homme rock'n'roll dogs' 'quoted' snake_case"
    assert list(tokenize(text)) == [
        "don't",
        "stop",
        "well",
        "known",
        "italic",
        "abc",
        "def",
        "l'homme",
        "rock'n'roll",
        "dogs",
        "quoted",
        "snake",
        "case",
    ]


def test_unicode_lowercase_and_marks() -> None:
    assert list(tokenize("ΟΔΟΣ İstanbul ÉCOLE naïve")) == ["οδος", "i̇stanbul", "école", "naïve"]


def test_combining_marks_stay_in_the_word_before_and_after_nfc() -> None:
    nfd = unicodedata.normalize("NFD", "Café")
    assert list(tokenize(nfd)) == [unicodedata.normalize("NFD", "café")]
    assert list(tokenize(normalize(nfd))) == ["café"]


def test_all_digits_has_no_words() -> None:
    assert list(tokenize("1 22 333 4.5 6,000")) == []


def test_count_words_over_texts() -> None:
    assert count_words(["The cat, the HAT.", "the end’s end's"]) == {"the": 3, "cat": 1, "hat": 1, "end's": 2}


# --- a whole book -----------------------------------------------------------------------------------


def test_read_book_cp1252_crlf_with_all_metadata() -> None:
    raw = (
        b"The Project Gutenberg EBook of Faust\r\n\r\nLanguage: German\r\n\r\n"
        b"*** START OF THIS PROJECT GUTENBERG EBOOK FAUST ***\r\n"
        b"Habe nun, ach! Philosophie,\r\nJuristerei und Medizin,\r\n\x93Tr\xe4nen\x94\r\n"
        b"End of the Project Gutenberg EBook of Faust\r\nlicense\r\n"
    )
    book = read_book(raw)
    assert book.body == "Habe nun, ach! Philosophie,\nJuristerei und Medizin,\n“Tränen”"
    assert (book.encoding, book.language, book.start_marker, book.end_marker) == (
        "cp1252",
        "German",
        True,
        True,
    )
    assert (book.raw_bytes, book.raw_lines, book.body_lines) == (len(raw), 10, 3)
    assert list(tokenize(book.body)) == [
        "habe",
        "nun",
        "ach",
        "philosophie",
        "juristerei",
        "und",
        "medizin",
        "tränen",
    ]


def test_read_book_empty_after_stripping() -> None:
    book = read_book(
        b"*** START OF THIS PROJECT GUTENBERG EBOOK X ***\n*** END OF THIS PROJECT GUTENBERG EBOOK X ***\n"
    )
    assert (book.body, book.body_lines, book.language) == ("", 0, "unknown")


def test_read_book_of_empty_bytes() -> None:
    book = read_book(b"")
    assert (book.body, book.raw_lines, book.body_lines, book.encoding) == ("", 0, 0, "utf-8")


# --- stop words -------------------------------------------------------------------------------------


def test_english_stopwords_are_spark_mls_list() -> None:
    words = textrules.load_stopwords("english")
    assert len(words) == 181
    assert {"i", "the", "don't", "i'll", "yourselves"} <= words
    assert "said" not in words


def test_none_removes_nothing() -> None:
    assert textrules.load_stopwords("none") == frozenset()


def test_stopword_file_is_normalised_like_tokens(tmp_path: Path) -> None:
    path = tmp_path / "stop.txt"
    path.write_text("The\n\n  Don’t  \nCafe\u0301\n", encoding="utf-8")
    assert textrules.load_stopwords(str(path)) == {"the", "don't", "café"}


def test_missing_stopword_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    with pytest.raises(FileNotFoundError, match=f"^stop-word file {missing}: no such file$"):
        textrules.load_stopwords(str(missing))


def test_words_equals_tokenize_with_and_without_capital_sigma() -> None:
    texts = ["ΟΔΟΣ.Α Α.Σ ΣΑΣ''ΑΣ", "Don’t STOP İstanbul ÉCOLE l'homme’s", "ΣΟΦΙΑ’Σ end", ""]
    for text in texts:
        assert textrules.words(text) == list(tokenize(text))
    assert textrules.words("ΟΔΟΣ.Α") == ["οδος", "α"]  # whole-text lowercasing would give "οδοσ"


def test_lowercase_keeps_every_character_on_its_side_of_the_word_pattern() -> None:
    # The shortcut in `words` (lowercase the whole text, then match) relies on this, for every code point.
    word_char = regex.compile(r"[\p{L}\p{M}]")
    changed = [chr(cp) for cp in range(0x110000) if not 0xD800 <= cp < 0xE000 and chr(cp).lower() != chr(cp)]
    assert len(changed) > 1400
    broken = [
        c for c in changed if bool(word_char.fullmatch(c)) != all(word_char.fullmatch(x) for x in c.lower())
    ]
    assert broken == []
    assert not any(c in "'’" for ch in changed for c in ch.lower())


# --- stop-word language -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("English", "english"),
        ("French", "french"),
        ("German", "german"),
        ("Spanish", "spanish"),
        ("de", "german"),
        ("en", "english"),
        ("nb", "norwegian"),
        ("English, French", "english"),
        ("English and French", "english"),
        ("English; Latin", "english"),
        ("French & English", "french"),
        ("Portuguese/English", "portuguese"),
        ("  ENGLISH\t", "english"),
        ("Latin, English", None),
        ("Esperanto", None),
        ("unknown", None),
        ("", None),
        (None, None),
        (", French", None),
        ("Englishand French", None),
    ],
)
def test_stopword_language(language: str | None, expected: str | None) -> None:
    assert textrules.stopword_language(language) == expected


def test_every_stopword_language_maps_to_a_spark_list() -> None:
    assert len(textrules.SPARK_STOPWORD_LISTS) == 14
    assert set(textrules.STOPWORD_LANGUAGES.values()) == set(textrules.SPARK_STOPWORD_LISTS)
    assert all(textrules.STOPWORD_LANGUAGES[name] == name for name in textrules.SPARK_STOPWORD_LISTS)
    assert all(key == key.strip().lower() for key in textrules.STOPWORD_LANGUAGES)


def test_language_separator_avoids_unicode_dependent_classes() -> None:
    # Java's \s, \b and (?i) differ from Python's on non-ASCII text; the pattern must mean the same to both.
    assert not regex.search(r"\\[sSbBwW]|\(\?[a-z]*i", textrules.LANGUAGE_SEPARATOR)
    assert textrules.LANGUAGE_SEPARATOR_RE.split("English\u00a0and French") == ["English\u00a0and French"]

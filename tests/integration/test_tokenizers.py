"""Both Spark tokenizers (jobs/jvm's BookWords, Spark's built-in functions) against jobs/textrules.py,
on every code point in the contexts that decide a token: inside a word, alone, joined by either
apostrophe, and beside a capital sigma (whose lowercase depends on its neighbours).

The whole shared mirror is compared in test_word_count.py, on both tokenizers too.
"""

from __future__ import annotations

import sys
import unicodedata

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import regex
from pyspark.sql import functions as F

from jobs import textrules, word_count

pytestmark = pytest.mark.spark

CODE_POINTS = [cp for cp in range(sys.maxunicode + 1) if not 0xD800 <= cp <= 0xDFFF]
# java.lang.Character.getType's values, as general category names.
JAVA_CATEGORIES = (
    "Cn", "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Me", "Mc", "Nd", "Nl", "No", "Zs", "Zl", "Zp", "Cc",
    "Cf", "?", "Co", "Cs", "Pd", "Ps", "Pe", "Pc", "Po", "Sm", "Sc", "Sk", "So", "Pi", "Pf",
)  # fmt: skip
CATEGORIES = sorted(set(JAVA_CATEGORIES) - {"?"})


def contexts(c: str) -> list[str]:
    """Two texts per code point: one without a capital sigma (the builtin tokenizer's whole-text
    lowercasing) and one with (its per-token lowercasing, and final sigma next to `c`)."""
    plain = f"A{c}b {c} {c}'{c} x’{c}y '{c} {c}’ Ab{c}"
    return [plain, f"Σ{c} {c}Σ Σ{c}Σ A{c}Σ {plain}"]


@pytest.fixture(scope="module")
def code_point_corpus(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A Parquet file of `id`, `cp`, `text`, `expected` (the text's tokens by textrules.tokenize, sorted,
    joined by newlines): two texts for every code point."""
    ids, cps, texts, expected = [], [], [], []
    for cp in CODE_POINTS:
        for text in contexts(chr(cp)):
            ids.append(len(ids))
            cps.append(cp)
            texts.append(text)
            expected.append("\n".join(sorted(textrules.tokenize(text))))
    path = tmp_path_factory.mktemp("code-points") / "corpus.parquet"
    pq.write_table(pa.table({"id": ids, "cp": cps, "text": texts, "expected": expected}), path)
    return str(path)


def sorted_tokens(tokenizer: str):
    """The sorted tokens of `text`, newline-joined, by `tokenizer` (array_sort is code point order,
    as UTF-8 byte order is)."""
    if tokenizer == "jvm":
        entries = word_count.book_words_jvm(F.col("text"))
        tokens = F.flatten(F.transform(entries, lambda e: F.array_repeat(e["word"], e["count"].cast("int"))))
    else:
        tokens = word_count.words(F.col("text"))
    return F.array_join(F.array_sort(tokens), "\n")


def regex_category(c: str) -> str:
    """The general category the regex module (textrules' WORD_PATTERN engine) gives `c`."""
    return next(name for name in CATEGORIES if regex.match(rf"\p{{{name}}}", c))


@pytest.mark.parametrize("tokenizer", ["jvm", "builtin"])
def test_every_code_point_is_tokenized_as_the_python_rules_do(spark, code_point_corpus, tokenizer) -> None:
    frame = spark.read.parquet(code_point_corpus)
    differing = sorted(
        {
            row["cp"]
            for row in frame.where(sorted_tokens(tokenizer) != F.col("expected")).select("cp").collect()
        }
    )
    # The rules' versions of Unicode differ: Python 3.11's lowercasing and categories are Unicode 14, the
    # regex module's classes newer, the JVM's Java 17's (Unicode 13). Every difference must be a code point
    # whose general category differs between them (new ones are Cn to the older), nothing else.
    java = spark.sparkContext._jvm.java.lang.Character
    stable = [
        f"U+{cp:04X}"
        for cp in differing
        if len({unicodedata.category(chr(cp)), regex_category(chr(cp)), JAVA_CATEGORIES[java.getType(cp)]})
        == 1
    ]
    assert stable == []
    # About 27,000: the letters of Unicode 14 to 16 (CJK extensions H and I, Tangut, ...), unknown to Java.
    assert len(differing) < 30_000
    # Every category but the surrogates (Cs) was compared.
    assert len({unicodedata.category(chr(cp)) for cp in CODE_POINTS}) == 29


def test_the_contexts_exercise_the_rules() -> None:
    """The contexts hold what the rules turn on: joined and cut apostrophes, and a final sigma."""
    assert sorted(textrules.tokenize(contexts("é")[1])) == sorted(
        ["σé", "éς", "σéς", "aéς", "aéb", "é", "é'é", "x'éy", "é", "é", "abé"]
    )
    assert sorted(textrules.tokenize(contexts("-")[0])) == ["a", "ab", "b", "x", "y"]

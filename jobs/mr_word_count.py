"""Word count of line-oriented UTF-8 text with mrjob, by the same text rules as the Spark job.

Each input line is tokenized with `textrules.words`; the output is one `word<TAB>count` line per
distinct word. Any mrjob runner works; the `jobs` package travels with the job (`dirs()`), so each task
imports `jobs.textrules` as the pipeline does (run it where `jobs` imports: installed, or from the root):

    python jobs/mr_word_count.py -r local data/corpus_text/yesterday/2026-11-21/books-10/part-*.txt
    python jobs/mr_word_count.py -r hadoop hdfs:///corpus_text/...      # -r emr, dataproc, spark too

The pipeline's WordCountMR task drives this class through mrjob's runner API. A token never spans
a line break, so counting line by line gives exactly the counts of whole books.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator

from mrjob.job import MRJob
from mrjob.protocol import TextValueProtocol

from jobs.textrules import BATCH_LINES, words

# This package, shipped to every task's working directory as `jobs/`, so `jobs.textrules` imports there.
JOBS_PACKAGE = os.path.dirname(os.path.abspath(__file__))


class WordCountProtocol:
    """`word<TAB>count` in UTF-8: words never contain a tab, so no quoting or JSON is needed."""

    def read(self, line: bytes) -> tuple[str, int]:
        word, _, count = line.rpartition(b"\t")
        return word.decode("utf-8"), int(count)

    def write(self, key: str, value: int) -> bytes:
        return b"%s\t%d" % (key.encode("utf-8"), value)


class MRWordCount(MRJob):
    """Counts every word of the input lines: in-mapper combining, a combiner and a summing reducer."""

    INPUT_PROTOCOL = TextValueProtocol
    INTERNAL_PROTOCOL = WordCountProtocol
    OUTPUT_PROTOCOL = WordCountProtocol

    def dirs(self) -> list[str]:
        return [*super().dirs(), f"{JOBS_PACKAGE}#jobs"]

    def mapper_init(self) -> None:
        # One Counter per map task: each distinct word leaves the mapper once, not once per occurrence.
        self.counts: Counter[str] = Counter()
        self.lines: list[str] = []

    def mapper(self, _: None, line: str) -> None:
        self.lines.append(line)
        if len(self.lines) >= BATCH_LINES:
            self.count_lines()

    def count_lines(self) -> None:
        self.counts.update(words("\n".join(self.lines)))
        self.lines.clear()

    def mapper_final(self) -> Iterator[tuple[str, int]]:
        self.count_lines()
        yield from self.counts.items()

    def combiner(self, word: str, counts: Iterable[int]) -> Iterator[tuple[str, int]]:
        yield word, sum(counts)

    def reducer(self, word: str, counts: Iterable[int]) -> Iterator[tuple[str, int]]:
        yield word, sum(counts)


if __name__ == "__main__":
    MRWordCount.run()

"""TopWords: the top words of one corpus from any engine's word-count table, as CSV, JSON, PNG and an
HTML report, and the summary printed at the end of a run. It knows no engine: a TopWords<Engine> task
names its word-count task (and may add the engine's per-book analysis).
"""

from __future__ import annotations

import collections
import sys
import time
from typing import Any

import luigi

from jobs import textrules
from pipeline import formats, htmlreport, params, report, storage, timings
from pipeline.corpus import CorpusParquet, CorpusTask
from pipeline.fetch import DownloadBook


class TopWords(CorpusTask):
    """Base of the TopWords<Engine> tasks: one engine's top words as CSV, JSON, PNG and an HTML report."""

    n_words = params.count(50, 0, "how many words to report; 0 for all")
    stopwords = params.stopwords()

    engine = ""

    def word_count_task(self) -> luigi.Task:
        raise NotImplementedError

    def analysis(self) -> dict[str, list[dict[str, Any]]] | None:
        """The engine's per-book analysis (books, book_words, growth rows), or None if it has none."""
        return None

    def requires(self) -> luigi.Task:
        return self.word_count_task()

    def output(self) -> dict[str, luigi.target.FileSystemTarget]:
        prefix = storage.top_words_prefix(
            self.engine, self.date, self.period, self.n_books, self.n_words, self.stopwords
        )
        return {
            "csv": storage.target(prefix + ".csv"),
            "json": storage.target(prefix + ".json"),
            "png": storage.target(prefix + ".png", binary=True),
            "html": storage.target(prefix + ".html"),
        }

    def run(self) -> None:
        started = time.monotonic()
        self.set_status_message("Reading the word counts")
        self.set_progress_percentage(0)
        counts = formats.read_word_counts(self.requires().output().path)
        rows = report.rank_words(counts, textrules.load_stopwords(self.stopwords), self.n_words)
        corpus = formats.read_corpus_manifest(CorpusParquet(**self.corpus_params()).output().path)
        self.set_status_message("Fitting Zipf's and Heaps' laws")
        self.set_progress_percentage(30)
        by_count = sorted((c for _, c in counts), reverse=True)
        zipf = report.zipf_fit(by_count)
        analysis = self.analysis()
        growth = [(g["tokens"], g["distinct_words"]) for g in analysis["growth"]] if analysis else []
        heaps = report.heaps_fit(growth) if analysis else None
        outputs = self.output()
        payload = {
            "engine": self.engine,
            "date": self.date.isoformat(),
            "period": self.period,
            "n_books": self.n_books,
            "n_words": self.n_words,
            "stopwords": self.stopwords,
            "tokens": sum(c for _, c in counts),
            "distinct_words": len(counts),
            "books": corpus["books"],
            "skipped": corpus["skipped"],
            "words": [{"rank": r, "word": w, "count": c} for r, w, c in rows],
            "zipf": zipf.to_json() if zipf else None,
            "heaps": heaps.to_json() if heaps else None,
            "growth": [[n, v] for n, v in growth],
            "book_stats": _book_stats(corpus, analysis) if analysis else None,
            "outputs": {kind: target.path for kind, target in self.all_outputs().items()},
        }
        self.set_status_message("Writing the CSV, JSON and charts")
        self.set_progress_percentage(50)
        report.write_csv(outputs["csv"], rows)
        formats.write_json(outputs["json"], payload)
        charts = {
            "top_words": report.chart_png(rows, self.chart_title()),
            "zipf": report.zipf_png(by_count, zipf),
        }
        report.write_png(outputs["png"], charts["top_words"])
        if analysis:
            charts["heaps"] = report.heaps_png(growth, heaps)
        self.set_status_message("Writing the HTML report")
        self.set_progress_percentage(80)
        stages = self.stage_timings(time.monotonic() - started)
        with outputs["html"].open("w") as handle:
            handle.write(htmlreport.render(payload, charts, stages))
        self.set_status_message(f"Report: {outputs['html'].path}")
        self.set_progress_percentage(100)
        print(self.summary(payload, stages), flush=True)

    def all_outputs(self) -> dict[str, luigi.target.FileSystemTarget]:
        """This report's outputs and the corpus and word counts it was made from."""
        return {
            "corpus": CorpusParquet(**self.corpus_params()).output(),
            "word counts": self.word_count_task().output(),
            **self.output(),
        }

    def chart_title(self) -> str:
        return f"Top words in the {self.n_books} most downloaded Gutenberg books ({self.period}, {self.date})"

    def upstream(self) -> list[luigi.Task]:
        """Every task this report depends on, dependencies first, downloads of its corpus included."""
        order: dict[str, luigi.Task] = {}

        def visit(task: luigi.Task) -> None:
            if task.task_id in order:
                return
            deps = list(luigi.task.flatten(task.requires()))
            if isinstance(task, CorpusParquet) and task.output().exists():
                manifest = formats.read_corpus_manifest(task.output().path)
                for entry in [*manifest["books"], *manifest["skipped"]]:
                    try:
                        deps.append(DownloadBook(book_id=entry["book_id"]))
                    except ValueError:
                        continue  # an invalid id on the list: never downloaded
            for dep in deps:
                visit(dep)
            order[task.task_id] = task

        visit(self.requires())
        return list(order.values())

    def stage_timings(self, own_seconds: float | None = None) -> list[dict[str, Any]]:
        """Seconds per task family of this report and everything upstream (pipeline/timings.py).

        `own_seconds` is this task's time so far when it is still running (it has no record yet).
        """
        if own_seconds is None:
            return timings.stage_timings([*self.upstream(), self])
        return timings.stage_timings(self.upstream(), running=self, seconds=own_seconds)

    def summary(self, payload: dict[str, Any], stages: list[dict[str, Any]]) -> str:
        """The table and facts printed at the end of a run."""
        rows = [(w["rank"], w["word"], w["count"]) for w in payload["words"]]
        books = ", ".join(str(b["book_id"]) for b in payload["books"])
        skipped = ", ".join(f"{b['book_id']} ({b['title']})" for b in payload["skipped"]) or "none"
        zipf, heaps = payload.get("zipf"), payload.get("heaps")
        laws = []
        if zipf:
            laws.append(f"Zipf exponent s {-zipf['exponent']:.3f} (ranks 1-{zipf['points']})")
        if heaps:
            laws.append(f"Heaps K {heaps['constant']:.2f}, beta {heaps['exponent']:.3f}")
        stage_width = max([len("stage"), *(len(t["stage"]) for t in stages)])
        stage_lines = [f"{'stage':<{stage_width}}  tasks  seconds  finished (UTC)"]
        stage_lines += [
            f"{t['stage']:<{stage_width}}  {t['tasks']:>5}  {t['seconds']:>7.1f}  {t['finished']}"
            for t in stages
        ]
        outputs = payload.get("outputs") or {kind: t.path for kind, t in self.all_outputs().items()}
        lines = [
            "",
            f"Top {len(rows)} words ({self.engine}; stop words: {self.stopwords}) in "
            f"{len(payload['books'])} books, {self.period} list of {self.date}:",
            "",
            report.format_table(rows),
            "",
            f"tokens {payload['tokens']:,}, distinct words {payload['distinct_words']:,}"
            + "".join(f"; {law}" for law in laws),
            f"books used ({len(payload['books'])}): {books}",
            f"books skipped: {skipped}",
            "",
            *stage_lines,
            "",
            *(f"{kind:>11}: {path}" for kind, path in outputs.items()),
            "",
        ]
        return "\n".join(lines)


def _book_stats(corpus: dict[str, Any], analysis: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The analysis's per-book rows with titles and authors from the corpus manifest, in list order."""
    manifest = {b["book_id"]: b for b in corpus["books"]}
    words: dict[tuple[int, str], list[dict[str, Any]]] = collections.defaultdict(list)
    for row in sorted(analysis["book_words"], key=lambda r: (r["book_id"], r["list"], r["rank"])):
        entry = {"word": row["word"], "count": row["count"]}
        if row["list"] == "distinctive":
            entry["tfidf"] = row["tfidf"]
        words[row["book_id"], row["list"]].append(entry)
    stats = []
    for row in analysis["books"]:
        book = manifest.get(row["book_id"], {})
        stats.append(
            {
                **row,
                "title": book.get("title", ""),
                "author": book.get("author", ""),
                "mirror": book.get("mirror", ""),
                "top": words[row["book_id"], "top"],
                "distinctive": words[row["book_id"], "distinctive"],
            }
        )
    return stats


@TopWords.event_handler(luigi.Event.DEPENDENCY_PRESENT)
def _print_existing_report(task: TopWords) -> None:
    """A rerun with nothing to do still shows the table it made before."""
    # Only for the task named on the command line: a trend over a month depends on 30 complete reports.
    if task.task_family not in sys.argv[1:]:
        return
    print(task.summary(formats.read_json(task.output()["json"]), task.stage_timings()), flush=True)

"""jobs/word_count.py without a JVM: the progress lines it prints from Spark's status tracker, here a fake
one set by the test. The job itself runs on Spark in tests/integration/test_word_count.py and
test_word_count_analysis.py."""

from __future__ import annotations

import io
import time

import pytest
from pyspark.status import SparkJobInfo, SparkStageInfo

from jobs import word_count

# Marked like every other test of the Spark job (`-m spark` selects what it did), though these need no JVM.
pytestmark = pytest.mark.spark


class FakeTracker:
    """A status tracker over jobs set by the test: group -> [(job id, status, [(stage id, tasks, done)])]."""

    def __init__(self) -> None:
        self.groups: dict[str, list[tuple[int, str, list[tuple[int, int, int]]]]] = {}
        self.fail = False

    def getJobIdsForGroup(self, group: str) -> list[int]:  # noqa: N802 (the tracker's API)
        if self.fail:
            raise RuntimeError("tracker gone")
        return [job_id for job_id, _, _ in self.groups.get(group, [])]

    def getJobInfo(self, job_id: int) -> SparkJobInfo | None:  # noqa: N802
        job = next((j for jobs in self.groups.values() for j in jobs if j[0] == job_id), None)
        return None if job is None else SparkJobInfo(job_id, [stage for stage, _, _ in job[2]], job[1])

    def getStageInfo(self, stage_id: int) -> SparkStageInfo | None:  # noqa: N802
        stages = [s for jobs in self.groups.values() for j in jobs for s in j[2] if s[0] == stage_id]
        if not stages or stages[0][1] < 0:  # a negative task count: info gone
            return None
        return SparkStageInfo(stage_id, 0, "stage", stages[0][1], 0, stages[0][2], 0)


class FakeContext:
    def __init__(self) -> None:
        self.tracker = FakeTracker()
        self.groups: list[str] = []

    def statusTracker(self) -> FakeTracker:  # noqa: N802
        return self.tracker

    def setJobGroup(self, group: str, description: str) -> None:  # noqa: N802
        self.groups.append(group)


def test_progress_lines_from_the_status_tracker() -> None:
    sc, out = FakeContext(), io.StringIO()
    tracker = sc.tracker
    # A long interval: the test polls by hand, so every line is known.
    with word_count.Progress(sc, ["reading", "writing"], stream=out, interval=3600) as progress:
        with progress.step("reading"):
            tracker.groups[sc.groups[-1]] = [(1, "RUNNING", [(1, 4, 2)])]
            progress._poll()
            progress._poll()  # nothing changed: no line
            # A second job: more tasks known, the percent holds.
            tracker.groups[sc.groups[-1]].append((2, "RUNNING", [(2, 4, 0), (3, -1, 0)]))
            progress._poll()
        with progress.step("writing"):
            # A finished job's skipped stage ran no task but is done.
            tracker.groups[sc.groups[-1]] = [(4, "SUCCEEDED", [(4, 3, 0), (5, 1, 1)])]
            progress._poll()
    assert sc.groups == ["gutenberg-wordcount-step-1", "gutenberg-wordcount-step-2"]
    assert out.getvalue().splitlines() == [
        "gutenberg-wordcount progress 0% step 1/2 reading: 0/0 tasks",
        "gutenberg-wordcount progress 25% step 1/2 reading: 2/4 tasks",
        "gutenberg-wordcount progress 25% step 1/2 reading: 2/8 tasks",
        "gutenberg-wordcount progress 50% step 2/2 writing: 0/0 tasks",
        "gutenberg-wordcount progress 99% step 2/2 writing: 4/4 tasks",
        "gutenberg-wordcount progress 100% done",
    ]


def test_progress_thread_survives_a_failing_tracker() -> None:
    sc, out = FakeContext(), io.StringIO()
    sc.tracker.fail = True
    with word_count.Progress(sc, ["only"], stream=out, interval=0.01) as progress, progress.step("only"):
        time.sleep(0.2)
        assert progress._thread.is_alive()
    assert out.getvalue().splitlines() == [
        "gutenberg-wordcount progress 0% step 1/1 only: 0/0 tasks",
        "gutenberg-wordcount progress 100% done",
    ]

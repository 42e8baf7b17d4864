"""How long each pipeline task ran: a record per task under timings/, for the per-stage table of the
summary and the report. Records are files, so they work under luigid and any number of workers."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import luigi

from pipeline import formats, storage

logger = logging.getLogger("luigi-interface." + __name__)


def timing_target(task: luigi.Task) -> luigi.target.FileSystemTarget:
    return storage.target(storage.timing_path(task.task_family, task.task_id))


def read_timing(task: luigi.Task) -> dict[str, Any] | None:
    """The record `record_timing` left for `task`, or None."""
    target = timing_target(task)
    if not target.exists():
        return None
    try:
        return formats.read_json(target)
    except (OSError, ValueError):
        return None


def stage_timings(
    tasks: Iterable[luigi.Task], running: luigi.Task | None = None, seconds: float = 0.0
) -> list[dict[str, Any]]:
    """Tasks, seconds and last finish time per task family, from the records of `tasks`.

    `running` is a task that has no record yet because it is still running, `seconds` its time so far.
    """
    stages: dict[str, dict[str, Any]] = {}
    for task in tasks:
        record = read_timing(task)
        if record is None:
            continue
        stage = stages.setdefault(task.task_family, {"stage": task.task_family, "tasks": 0, "seconds": 0.0})
        stage["tasks"] += 1
        stage["seconds"] += record["seconds"]
        stage["finished"] = max(stage.get("finished", ""), record["finished"])
    if running is not None:
        family = running.task_family
        stages[family] = {"stage": family, "tasks": 1, "seconds": seconds, "finished": formats.utc_now()}
    return list(stages.values())


@luigi.Task.event_handler(luigi.Event.PROCESSING_TIME)
def record_timing(task: luigi.Task, seconds: float) -> None:
    """Keep how long each pipeline task ran."""
    if not type(task).__module__.startswith("pipeline."):
        return
    record = {"task_id": task.task_id, "seconds": round(seconds, 3), "finished": formats.utc_now()}
    try:
        formats.write_json(timing_target(task), record)
    except Exception as exc:
        logger.warning("could not record the time of %s: %s", task, exc)

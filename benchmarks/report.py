"""The report of one invocation: the targets (targets.json) measured on its runs, and the files it writes.

results.md (the tables), results.json (every number) and throughput.png (MiB/s against corpus size).
"""

from __future__ import annotations

import json
import operator
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from measure import MIB, Run

TARGETS = Path(__file__).with_name("targets.json")
MET_IF = {">=": operator.ge, "<=": operator.le, "<": operator.lt}


@dataclass
class Report:
    mode: str
    command: str
    date: str
    machine: dict[str, str]
    runs: list[Run] = field(default_factory=list)
    targets: list[dict[str, object]] = field(default_factory=list)
    # With HDFS rows: the mini cluster's Hadoop version, its start time and each corpus's upload time (s).
    hdfs: dict[str, Any] = field(default_factory=dict)
    # SparkClassArchive: made before the runs (its seconds) or found made (0); None: no Spark row ran.
    class_archive_s: float | None = None


def cpu_model() -> str:
    with open("/proc/cpuinfo") as handle:
        return next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "?")


def machine() -> dict[str, str]:
    """What the numbers were measured on: cores, memory, CPU and the versions of every engine."""
    with open("/proc/meminfo") as handle:
        mem_kib = int(next(line for line in handle if line.startswith("MemTotal")).split()[1])
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()
    # DuckDB is the optional [bench] extra: imported only when a report is made.
    import duckdb
    import mrjob
    import pyspark

    return {
        "cores": str(len(os.sched_getaffinity(0))),
        "memory": f"{mem_kib / MIB:.1f} GiB",
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "java": java[0] if java else "?",
        "spark": pyspark.__version__,
        "mrjob": mrjob.__version__,
        "duckdb": duckdb.__version__,
    }  # fmt: skip


# --- the targets -----------------------------------------------------------------------------------------


def load_targets(path: Path = TARGETS) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))["targets"]


def corpus_size(selector: str, runs: list[Run]) -> float | None:
    """The corpus size (MiB) a target's size selector names among `runs`; None where there is none."""
    sizes = sorted({r.size_mib for r in runs if r.size_mib})
    if selector == "largest":
        return sizes[-1] if sizes else 0
    if selector == "second largest":
        return sizes[-2] if len(sizes) >= 2 else None
    if selector.startswith("largest of "):
        tool = selector.removeprefix("largest of ")
        return max((r.size_mib for r in runs if r.tool == tool), default=None)
    if selector == "no corpus":
        return 0
    raise ValueError(f"targets.json: unknown size {selector!r}")


def evaluate(target: dict[str, Any], runs: list[Run]) -> dict[str, object] | None:
    """One target measured on `runs` (measured and met None where a tool did not run); None where the
    target does not apply to them (a scaling target on one corpus)."""
    size = corpus_size(target["size"], runs)
    size_b = corpus_size(target.get("size_b", target["size"]), runs)
    unmeasured = {"measured": None, "goal": target["goal"], "met": None}
    if size is None or size_b is None:
        return {"target": target["name_unsized"], **unmeasured} if "name_unsized" in target else None
    name = target["name"].format(size=f"{size:g}", size_b=f"{size_b:g}")

    def value(tool: str, at: float) -> float | None:
        matches = [r for r in runs if r.tool == tool and r.size_mib == at]
        return getattr(matches[-1], target["metric"]) if matches else None

    a = value(target["a"], size)
    if "b" in target:
        b = value(target["b"], size_b)
        measured = None if a is None or b is None else a / b
        shown = None if measured is None else round(measured, 2)
    else:
        measured = shown = a
    if measured is None:
        return {"target": name, **unmeasured}
    # met compares the exact ratio; the report shows it rounded.
    return {
        "target": name,
        "measured": shown,
        "goal": target["goal"],
        "met": MET_IF[target["met_if"]](measured, target["goal"]),
    }


def targets(runs: list[Run], spec: list[dict[str, Any]] | None = None) -> list[dict[str, object]]:
    """The targets of `spec` (default targets.json) that apply to `runs`, each measured in them."""
    evaluated = (evaluate(target, runs) for target in (load_targets() if spec is None else spec))
    return [t for t in evaluated if t is not None]


# --- the files -------------------------------------------------------------------------------------------


def cell(text: str) -> str:
    """Text for a Markdown table cell (a `|` would end the cell, even inside backticks)."""
    return text.replace("|", "\\|")


def markdown(report: Report) -> str:
    m = report.machine
    lines = [
        f"Benchmark ({report.mode}), {report.date}: {m['cores']} cores, {m['memory']} ({m['cpu']}); "
        f"Python {m['python']}, {m['java']}, Spark {m['spark']}, mrjob {m['mrjob']}, DuckDB {m['duckdb']}.",
        f"Command: `{report.command}`. MiB/s is MiB of body text (the corpus's `text` column, UTF-8) per "
        "wall second; RSS is the peak summed resident memory of the whole process tree; x ours is the "
        "throughput over our Spark job's on the same corpus.",
    ]
    if report.class_archive_s is not None:
        made = (
            f"made for this run in {report.class_archive_s:.0f} s" if report.class_archive_s else "found made"
        )
        lines.append(
            "Our Spark rows and the main command map the driver's class-data sharing archive "
            f"(`luigi --module pipeline SparkClassArchive`, once per machine: {made}, not timed); the "
            "trivial spark-submit and Spark's example run without it."
        )
    if report.hdfs:
        uploads = ", ".join(f"{size} MiB in {s:.1f} s" for size, s in report.hdfs["upload_s"].items())
        hadoop, start = report.hdfs["hadoop"], report.hdfs["start_s"]
        lines.append(
            f"Mini HDFS: Hadoop {hadoop}'s MiniDFSCluster and MiniMRYarnCluster in one JVM on this machine "
            "(`scripts/hadoop-cluster`: a NameNode, a DataNode, replication 1, a ResourceManager and a "
            f"NodeManager), started after the local rows ({start:.0f} s); each corpus copied onto it by "
            f"`hadoop fs -put`, not timed ({uploads}). Its RSS, YARN's containers included, is given beside "
            "the command's."
        )
    lines += [
        "",
        "| corpus | storage | tool | tokenisation | wall s | MiB/s | x ours | peak RSS MiB | distinct words "
        "| same table as ours |",
        "| ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    ours = {r.size_mib: r for r in report.runs if r.tool == "spark"}
    for run in report.runs:
        if not run.size_mib:
            continue
        spark = ours.get(run.size_mib)
        x = f"{run.mib_per_s / spark.mib_per_s:.2f}" if spark else ""
        wall = f"{run.wall_s:.1f}" + (f" ({run.jvm_free_s:.1f} without JVM start)" if run.jvm_free_s else "")
        wall += f" ({run.yarn_s:.1f} on YARN)" if run.yarn_s is not None else ""
        rss = f"{run.peak_rss_mib:.0f}"
        rss += f" (+ {run.cluster_rss_mib:.0f} mini cluster)" if run.cluster_rss_mib is not None else ""
        same = {True: "yes", False: "no", None: ""}[run.same_as_ours]
        lines.append(
            f"| {run.body_mib:.0f} MiB | {run.storage} | {cell(run.label or run.tool)} "
            f"| {cell(run.tokenisation)} | {wall} | {run.mib_per_s:.2f} | {x} | {rss} "
            f"| {run.distinct_words or ''} | {same} |"
        )
    lines += ["", "| end to end (shared mirror, loopback) | wall s | peak RSS MiB |", "| --- | ---: | ---: |"]
    names = {
        "spark-trivial": "trivial spark-submit (JVM floor)",
        "main-cold": "README main command, cold",
        "main-noop": "README main command, no-op rerun",
    }
    for run in report.runs:
        if run.tool in names or run.tool.startswith(("main-many", "tr-many")):
            label = cell(run.label or names[run.tool])
            lines.append(f"| {label} | {run.wall_s:.1f} | {run.peak_rss_mib:.0f} |")
    lines += ["", "| target | measured | goal | met |", "| --- | ---: | ---: | --- |"]
    for t in report.targets:
        met = {True: "yes", False: "**no**", None: "not run"}[t["met"]]  # type: ignore[index]
        lines.append(
            f"| {t['target']} | {t['measured'] if t['measured'] is not None else ''} | {t['goal']} | {met} |"
        )
    return "\n".join(lines) + "\n"


def plot(report: Report, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display: the plot only goes to a file
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for name in dict.fromkeys(r.tool for r in report.runs if r.size_mib):
        runs = [r for r in report.runs if r.tool == name]
        ax.plot(
            [r.body_mib for r in runs],
            [r.mib_per_s for r in runs],
            marker="o",
            label=name,
            linewidth=3 if name == "spark" else 1.5,
        )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("corpus body text (MiB)")
    ax.set_ylabel("throughput (MiB/s, wall clock)")
    m = report.machine
    ax.set_title(f"Word count throughput, {m['cores']} cores, {m['memory']} ({report.date})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(report: Report, workdir: Path) -> None:
    """results.json, results.md and (once a corpus has run) throughput.png in `workdir`."""
    (workdir / "results.json").write_text(json.dumps(asdict(report), indent=2))
    (workdir / "results.md").write_text(markdown(report))
    if any(r.size_mib for r in report.runs):
        plot(report, workdir / "throughput.png")

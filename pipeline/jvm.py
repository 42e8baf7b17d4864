"""What the Spark engine builds once per machine, in the temporary directory: the JVM tokenizer's jar
(jobs/jvm, compiled by the JDK's javac) and the Spark driver's class-data sharing archive (made by the
SparkClassArchive task), which lets every later spark-submit's driver load its classes from one mapped
file instead of some twenty thousand class files in a hundred jars. `build_once` is how each cached file
(the jar, the jobs zip) is made.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from pipeline.config import JOBS_DIR, pyspark_home

CACHE_DIR = Path(tempfile.gettempdir()) / "gutenberg-wordcount"
JVM_SOURCES = JOBS_DIR / "jvm"
# javac starts about a second sooner without the C2 compiler; it compiles two short files.
JAVAC_OPTIONS = ("-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC", "--release", "17", "-nowarn")


def jdk_tool(name: str) -> str | None:
    """A JDK command (`java`, `javac`): JAVA_HOME's, else the one on PATH; None if there is none (a JRE
    has no javac)."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / name).is_file():
        return str(Path(home) / "bin" / name)
    return shutil.which(name)


def build_once(name: str, write: Callable[[Path], None]) -> str:
    """CACHE_DIR/name, written by `write(partial)` the first time and renamed into place: concurrent runs
    never see half a file, and a failed write leaves nothing behind."""
    final = CACHE_DIR / name
    if not final.exists():
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        partial = CACHE_DIR / f".{name}.{os.getpid()}"
        try:
            write(partial)
            os.replace(partial, final)
        finally:
            partial.unlink(missing_ok=True)
    return str(final)


def jobs_jar() -> str | None:
    """jobs/jvm compiled into a jar for `--jars`, or None without a javac.

    Built once per content and Spark version (its name carries their hash), like jobs_archive.
    """
    sources = sorted(JVM_SOURCES.rglob("*.java"))
    jars = Path(pyspark_home() or "") / "jars"
    api = sorted(jars.glob("spark-sql-api_*.jar")) or [jars / "*"]
    digest = hashlib.sha256(api[0].name.encode())
    for path in sources:
        digest.update(b"\0" + str(path.relative_to(JVM_SOURCES)).encode() + b"\0" + path.read_bytes())
    name = f"jobs-{digest.hexdigest()[:16]}.jar"
    if (CACHE_DIR / name).exists():
        return str(CACHE_DIR / name)
    compiler = jdk_tool("javac")
    if compiler is None:
        return None

    def compile_into(jar: Path) -> None:
        with tempfile.TemporaryDirectory(dir=CACHE_DIR, prefix=".javac-") as build:
            result = subprocess.run(
                [compiler, *JAVAC_OPTIONS, "-cp", str(api[0]), "-d", build, *map(str, sources)],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise RuntimeError(f"javac failed on {JVM_SOURCES}: {result.stderr.strip()}")
            with zipfile.ZipFile(jar, "w", zipfile.ZIP_DEFLATED) as zf:
                for path in sorted(Path(build).rglob("*.class")):
                    zf.write(path, str(path.relative_to(build)))

    return build_once(name, compile_into)


def class_archive_path() -> Path | None:
    """Where the driver's class-data sharing archive for this Java and Spark is (None without a java).

    Its name carries a hash of the java binary (path and time) and of Spark's jars: an archive only
    serves the JVM that wrote it, with the same class path.
    """
    java = jdk_tool("java")
    if java is None:
        return None
    real = os.path.realpath(java)
    jars = sorted(p.name for p in (Path(pyspark_home() or "") / "jars").glob("*.jar"))
    digest = hashlib.sha256(f"{real}\0{os.stat(real).st_mtime_ns}\0{'/'.join(jars)}".encode())
    return CACHE_DIR / f"spark-driver-{digest.hexdigest()[:16]}.jsa"


# A JVM that cannot map the archive (another class path: HADOOP_CONF_DIR set, say) runs without it and
# would print a warning on every start.
QUIET_CDS = ("-Xlog:cds=off", "-Xlog:cds+dynamic=off")


def class_archive_options() -> list[str]:
    """Driver JVM options that map the class-data sharing archive, if SparkClassArchive has made it."""
    path = class_archive_path()
    if path is None or not path.exists():
        return []
    return [f"-XX:SharedArchiveFile={path}", *QUIET_CDS]

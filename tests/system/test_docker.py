"""docker/Dockerfile and docker/compose.yaml refer only to things the project has, read as files (the
container tests, tests/system/test_container_*.py, build and run them with podman).

The compose checks parse the file with yaml.safe_load and compare each service's command with what it
names: the executables, the Luigi task and flags (parsed by Luigi's own command-line parser), the mini
cluster's flags (parsed by scripts/hadoop-cluster's own argparse parser), the ports, the volumes and the
Gutenberg mirror mount.
"""

from __future__ import annotations

import argparse
import configparser
import importlib.machinery
import importlib.util
import inspect
import json
import os
import shlex
import sys
import tomllib
import types
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import luigi
import luigi.interface
import pytest
import yaml
from luigi.cmdline_parser import CmdlineParser
from luigi.contrib.hdfs.webhdfs_client import webhdfs

import pipeline
import pipeline.config
import pipeline.storage
from pipeline.hdfs import ReadableWebHdfsTarget
from tests.support import REPO

DOCKER_DIR = REPO / "docker"
DOCKERFILE = DOCKER_DIR / "Dockerfile"
COMPOSE = DOCKER_DIR / "compose.yaml"
IMAGE = "gutenberg-wordcount"
SERVICES = {"luigid", "spark-master", "spark-worker", "hadoop", "pipeline", "pipeline-hdfs", "tests"}
PIPELINES = ["pipeline", "pipeline-hdfs"]
# Flags of luigi.interface.core, which has no section prefix on the command line.
LUIGI_CORE_FLAGS = {"--scheduler-host", "--scheduler-port", "--workers"}
# Sections of Luigi's own (not pipeline.config's) whose flags the pipeline service sets.
LUIGI_SECTIONS = {"webhdfs": webhdfs}
HADOOP_CLUSTER = REPO / "scripts" / "hadoop-cluster"
HADOOP_DIR = "/app/data/hadoop-cluster"
MAVEN_BUILD = "mvn -q -B -f scripts/hadoop/pom.xml compile dependency:build-classpath"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def exposed_ports() -> list[int]:
    return [int(port) for op, args in instructions() if op == "EXPOSE" for port in args.split()]


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def service(name: str) -> dict[str, Any]:
    return compose()["services"][name]


def command(name: str) -> list[str]:
    return service(name)["command"]


def flag(name: str, option: str) -> str:
    """The value after `option` in a service's command, which must appear exactly once."""
    args = command(name)
    assert args.count(option) == 1, (name, option)
    return args[args.index(option) + 1]


def published(name: str) -> dict[int, int]:
    """Container port -> host port of a service's `[ip:]host:container` port strings."""
    pairs = [entry.split(":")[-2:] for entry in service(name).get("ports", [])]
    return {int(container): int(host) for host, container in pairs}


def runs() -> list[str]:
    return [args for op, args in instructions() if op == "RUN"]


def luigi_flags(args: list[str]) -> list[str]:
    """The `--flag value` options of a luigi command: everything after the task name."""
    return args[args.index("--module") + 3 :: 2]


def config_parameter(option: str) -> tuple[str, str] | None:
    """The (section, parameter) of pipeline.config a `--section-key` flag sets, or None."""
    words = option.removeprefix("--")
    for section, cls in inspect.getmembers(pipeline.config, inspect.isclass):
        prefix = section.replace("_", "-") + "-"
        if issubclass(cls, luigi.Config) and words.startswith(prefix):
            param = words.removeprefix(prefix).replace("-", "_")
            if param in dict(cls.get_params()):
                return section, param
    return None


def luigi_parameter(option: str) -> tuple[str, str] | None:
    """The (section, parameter) of one of Luigi's own config classes a flag sets, or None."""
    if option in LUIGI_CORE_FLAGS:
        param = option.removeprefix("--").replace("-", "_")
        return ("core", param) if param in dict(luigi.interface.core.get_params()) else None
    for section, cls in LUIGI_SECTIONS.items():
        param = option.removeprefix(f"--{section}-").replace("-", "_")
        if option.startswith(f"--{section}-") and param in dict(cls.get_params()):
            return section, param
    return None


@pytest.fixture
def hadoop_cluster(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """scripts/hadoop-cluster as a module (it has no .py suffix; it imports `daemons` from scripts/)."""
    monkeypatch.syspath_prepend(str(HADOOP_CLUSTER.parent))
    loader = importlib.machinery.SourceFileLoader("hadoop_cluster", str(HADOOP_CLUSTER))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.fixture
def parse_hadoop_cluster(
    hadoop_cluster: types.ModuleType, monkeypatch: pytest.MonkeyPatch
) -> Callable[[list[str]], argparse.Namespace]:
    """The Namespace the script's own main() parses `args` into, with the commands it would run stubbed."""

    commands = ("start", "stop", "status", "datanode")
    # main() looks its commands up by global name, so the stubs replace them: nothing is started here.
    assert set(commands) <= set(hadoop_cluster.main.__code__.co_names)

    def parse(args: list[str]) -> argparse.Namespace:
        parsed: list[argparse.Namespace] = []
        for name in commands:
            monkeypatch.setattr(hadoop_cluster, name, lambda namespace: parsed.append(namespace) or 0)
        assert hadoop_cluster.main(args) == 0
        assert len(parsed) == 1
        return parsed[0]

    return parse


def test_base_image_is_python_3_11_and_java_17_is_installed() -> None:
    steps = instructions()
    # The base is a build argument (docker/build-offline passes a debootstrapped Debian bookworm).
    assert steps[:2] == [("ARG", "BASE=python:3.11-slim-bookworm"), ("FROM", "${BASE}")]
    packages = runs()[0].split("--no-install-recommends", 1)[1].split("&&")[0].split()
    # A JDK (javac compiles the JVM tokenizer and the mini cluster's Java main; it brings the JRE) and
    # Maven, as in .ci/run; Debian's Python 3.11 where the base has no python3.
    assert packages[:3] == ["openjdk-17-jdk-headless", "maven", "procps"]
    assert " ".join(packages[3:]) == "$(command -v python3 >/dev/null || echo python3 python3-venv)"
    assert "openjdk-17-jdk-headless maven" in (REPO / ".ci" / "run").read_text()
    assert runs()[1] == "python3 -m venv /opt/venv"
    assert ("ENV", "PATH=/opt/venv/bin:$PATH VIRTUAL_ENV=/opt/venv") in steps


def test_every_copied_path_exists_and_is_not_ignored() -> None:
    ignored = (REPO / ".dockerignore").read_text().splitlines()
    copies = [shlex.split(args) for op, args in instructions() if op == "COPY"]
    sources = [src for parts in copies for src in parts[:-1]]
    assert sources == [
        "scripts/hadoop",
        "pyproject.toml",
        "README.md",
        "jobs",
        "pipeline",
        "conf",
        "pyproject.toml",
        "scripts",
        "benchmarks",
        "tests",
        "data/README.md",
    ]
    mounts = [part for args in runs() for part in args.split() if part.startswith("--mount=")]
    assert mounts == ["--mount=type=bind,source=docker/offline,target=/offline"] * 2
    for src in [*sources, "docker/offline"]:
        assert (REPO / src).exists(), src
        assert src not in ignored
        assert f"{src}/*" not in ignored
    assert "!data/README.md" in ignored
    # A checkout has docker/offline/README.md alone, and git keeps what build-offline puts there out.
    assert (REPO / "docker" / "offline" / "README.md").is_file()
    assert "docker/offline/*" in (REPO / ".gitignore").read_text().splitlines()
    # The image has no docker/ folder, so the suite it runs leaves out these checks of the repository.
    assert "tests/system/test_docker.py" in ignored
    # The image builds its own scripts/hadoop/target; a checkout's would name jars in the host's ~/.m2.
    assert "scripts/hadoop/target" in ignored


def test_the_package_is_installed_not_editable_and_the_command_is_the_readme_test_command() -> None:
    copies = [shlex.split(args) for op, args in instructions() if op == "COPY"]
    project = [(src, dst) for *srcs, dst in copies for src in srcs if dst.startswith("/tmp/project")]
    assert project == [
        ("pyproject.toml", "/tmp/project/"),
        ("README.md", "/tmp/project/"),
        ("jobs", "/tmp/project/jobs"),
        ("pipeline", "/tmp/project/pipeline"),
        ("conf", "/tmp/project/conf"),
    ]
    # /app gets none of the package's code: the tests import the installed copy.
    assert not {"jobs", "pipeline", "conf"} & {
        src for *srcs, dst in copies for src in srcs if not dst.startswith("/tmp")
    }
    installs = [args for args in runs() if "pip install" in args]
    assert len(installs) == 2 and not any(" -e " in args for args in installs)
    # The dependencies are pyproject.toml's and its dev extra's, from docker/offline/wheels when it is there.
    assert 'p["dependencies"] + p["optional-dependencies"]["dev"]' in installs[0]
    assert "--no-index --find-links /offline/wheels" in installs[0]
    assert installs[1] == (
        "pip install --no-cache-dir -q --no-deps --no-build-isolation /tmp/project && rm -rf /tmp/project"
    )
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert {"setuptools>=77", "wheel"} <= set(extras["dev"])  # what --no-build-isolation builds with
    steps = dict(instructions())
    command = json.loads(steps["CMD"])
    assert command == ["python", "-m", "pytest", "-q"]
    assert "python -m pytest -q" in (REPO / "README.md").read_text()
    assert steps["ENV"] == "GUTENBERG_MIRROR=/shared/gutenberg/mirror"
    assert "GUTENBERG_MIRROR" in (REPO / "tests" / "support.py").read_text()


def test_image_exposes_the_scheduler_and_spark_ports() -> None:
    assert exposed_ports() == [8082, 7077, 8080, 8081, 8020, 9870]
    assert dict(instructions())["WORKDIR"] == "/app"


def test_compose_has_exactly_the_seven_services_all_built_from_the_project_dockerfile() -> None:
    spec = compose()
    assert "version" not in spec
    assert set(spec["services"]) == SERVICES
    for name, svc in spec["services"].items():
        assert svc["image"] == IMAGE, name
        assert svc["build"] == {"context": "..", "dockerfile": "docker/Dockerfile"}, name
        context = (DOCKER_DIR / svc["build"]["context"]).resolve()
        assert context == REPO, name
        assert (context / svc["build"]["dockerfile"]).resolve() == DOCKERFILE
        assert DOCKERFILE.is_file()
    # A plain `docker compose up` is luigid, Spark and the pipeline on the data volume; HDFS and the
    # pipeline on it are the `hdfs` profile, the suite the `test` one.
    profiles = {name: svc["profiles"] for name, svc in spec["services"].items() if "profiles" in svc}
    assert profiles == {"tests": ["test"], "hadoop": ["hdfs"], "pipeline-hdfs": ["hdfs"]}


def test_every_command_executable_exists_in_the_repo_or_beside_python() -> None:
    executables = {name: command(name)[0] for name in SERVICES}
    assert executables == {
        "luigid": "scripts/luigid",
        "spark-master": "spark-class",
        "spark-worker": "spark-class",
        "hadoop": "scripts/hadoop-cluster",
        "pipeline": "luigi",
        "pipeline-hdfs": "luigi",
        "tests": "python",
    }
    bindir = Path(sys.executable).parent
    for name, executable in executables.items():
        if executable.startswith("scripts/"):
            script = REPO / executable
            assert script.is_file(), name
            assert os.access(script, os.X_OK), name
            # The exec-form command runs the file itself: it needs an interpreter line.
            assert script.read_text().startswith("#!"), name
        else:
            assert (bindir / executable).is_file(), (name, executable)
            assert os.access(bindir / executable, os.X_OK), (name, executable)


def test_scheduler_and_spark_daemons_run_the_expected_classes_and_ports() -> None:
    assert command("luigid") == ["scripts/luigid", "--address", "0.0.0.0", "--port", "8082"]
    assert command("spark-master")[1] == "org.apache.spark.deploy.master.Master"
    assert command("spark-worker")[1] == "org.apache.spark.deploy.worker.Worker"
    assert flag("spark-master", "--webui-port") == "8080"
    assert flag("spark-worker", "--webui-port") == "8081"
    assert flag("spark-worker", "--cores") == "2"
    assert flag("spark-worker", "--memory") == "2g"
    assert command("tests") == ["python", "-m", "pytest", "-q"]


@pytest.mark.parametrize("name", PIPELINES)
def test_pipeline_command_runs_a_task_of_the_pipeline_package(name: str) -> None:
    args = command(name)
    assert args[1:4] == ["--module", "pipeline", "TopWordsSpark"]
    task_cls = getattr(pipeline, args[3])
    assert inspect.isclass(task_cls) and issubclass(task_cls, luigi.Task)
    assert args[3] in pipeline.__all__


def test_every_pipeline_flag_is_a_luigi_core_flag_or_a_config_parameter() -> None:
    cluster = ["--scheduler-host", "--scheduler-port", "--spark-master", "--workers"]
    assert luigi_flags(command("pipeline")) == cluster
    flags = luigi_flags(command("pipeline-hdfs"))
    assert flags == [*cluster, "--storage-root", "--webhdfs-port", "--spark-conf"]
    resolved = {option: luigi_parameter(option) or config_parameter(option) for option in flags}
    assert resolved == {
        "--scheduler-host": ("core", "scheduler_host"),
        "--scheduler-port": ("core", "scheduler_port"),
        "--spark-master": ("spark", "master"),
        "--workers": ("core", "workers"),
        "--storage-root": ("storage", "root"),
        "--webhdfs-port": ("webhdfs", "port"),
        "--spark-conf": ("spark", "conf"),
    }
    assert config_parameter("--spark-no-such-key") is None
    assert config_parameter("--gutenberg-base-url") == ("gutenberg", "base_url")
    assert luigi_parameter("--webhdfs-no-such-key") is None
    assert luigi_parameter("--storage-root") is None


def test_luigi_parses_the_pipeline_command_into_the_compose_settings() -> None:
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "conf" / "luigi.cfg")
    with CmdlineParser.global_instance(command("pipeline")[1:]) as parser:
        task = parser.get_task_obj()
        core = luigi.interface.core()
        assert type(task) is pipeline.TopWordsSpark
        assert (core.scheduler_host, core.scheduler_port, core.workers) == ("luigid", 8082, 2)
        assert pipeline.config.spark().master == "spark://spark-master:7077"
        # WordCountSpark hands that master to spark-submit.
        assert task.word_count_task().master == "spark://spark-master:7077"
        # The default root, data/ in the image's WORKDIR: the volume's mount (see the volume test).
        assert pipeline.config.storage().root == "data"
        assert pipeline.config.spark().conf == cfg.get("spark", "conf")


def test_luigi_parses_the_hdfs_pipeline_command_into_the_compose_settings() -> None:
    with CmdlineParser.global_instance(command("pipeline-hdfs")[1:]) as parser:
        task = parser.get_task_obj()
        core = luigi.interface.core()
        assert type(task) is pipeline.TopWordsSpark
        assert (core.scheduler_host, core.scheduler_port, core.workers) == ("luigid", 8082, 2)
        assert task.word_count_task().master == "spark://spark-master:7077"
        assert pipeline.config.storage().root == "hdfs://hadoop:8020/gw"
        assert webhdfs().port == 9870
        # Every output is a WebHDFS target on the NameNode the root names, at the --webhdfs-port.
        target = pipeline.storage.target(pipeline.storage.join("top_books"))
        assert type(target) is ReadableWebHdfsTarget
        assert target.path == "hdfs://hadoop:8020/gw/top_books"
        assert target.fs.url == "http://hadoop:9870"
        # The [spark] conf of conf/luigi.cfg, plus what executors in other containers need for HDFS.
        cfg = configparser.ConfigParser()
        cfg.read(REPO / "conf" / "luigi.cfg")
        extra = "spark.hadoop.dfs.client.use.datanode.hostname=true"
        assert pipeline.config.spark().conf == cfg.get("spark", "conf") + "|" + extra


def test_scheduler_port_is_the_same_in_luigid_the_pipeline_the_published_port_and_luigi_cfg() -> None:
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "conf" / "luigi.cfg")
    port = int(flag("luigid", "--port"))
    assert port == 8082
    assert int(flag("pipeline", "--scheduler-port")) == port
    assert int(flag("pipeline-hdfs", "--scheduler-port")) == port
    assert cfg.getint("core", "scheduler_port") == port
    assert published("luigid") == {port: port}
    assert flag("luigid", "--address") == "0.0.0.0"
    for name in PIPELINES:
        assert flag(name, "--scheduler-host") in compose()["services"]
        assert flag(name, "--scheduler-host") == "luigid"


def test_spark_master_url_names_the_master_service_and_its_published_port() -> None:
    url = flag("pipeline", "--spark-master")
    assert flag("pipeline-hdfs", "--spark-master") == url
    parts = urllib.parse.urlsplit(url)
    assert (parts.scheme, parts.hostname, parts.port) == ("spark", "spark-master", 7077)
    assert parts.hostname in compose()["services"]
    assert parts.hostname == flag("spark-master", "--host")
    assert parts.port == int(flag("spark-master", "--port"))
    assert published("spark-master") == {7077: 7077, 8080: 8080}
    assert published("spark-worker") == {8081: 8081}
    assert command("spark-worker")[-1] == url
    assert service("spark-worker")["depends_on"] == ["spark-master"]
    assert service("pipeline")["depends_on"] == ["luigid", "spark-master", "spark-worker"]
    # The HDFS pipeline waits for HDFS to be healthy (out of safe mode, a DataNode live), not just started.
    assert service("pipeline-hdfs")["depends_on"] == {
        "luigid": {"condition": "service_started"},
        "spark-master": {"condition": "service_started"},
        "spark-worker": {"condition": "service_started"},
        "hadoop": {"condition": "service_healthy"},
    }
    # Executors connect back to the driver by its host name, which other containers resolve only through
    # the service alias: `docker compose run` adds it with --use-aliases.
    assert {name: service(name)["hostname"] for name in PIPELINES} == {name: name for name in PIPELINES}
    assert "docker compose -f docker/compose.yaml run --rm --use-aliases pipeline" in COMPOSE.read_text()


def test_data_volume_holds_the_pipelines_outputs_and_luigids_state_and_the_hadoop_volume_hdfs() -> None:
    spec = compose()
    assert spec["volumes"] == {"data": None, "hadoop": None}
    mounts = {name: svc["volumes"] for name, svc in spec["services"].items() if "volumes" in svc}
    # The driver (pipeline) and the executors (spark-worker) share the local storage root at one path; with
    # an hdfs:// root (pipeline-hdfs) they share no local files, and mount nothing.
    assert mounts == {
        "luigid": ["data:/app/data"],
        "spark-worker": ["data:/app/data"],
        "pipeline": ["data:/app/data"],
        "hadoop": [f"hadoop:{HADOOP_DIR}"],
        "tests": service("tests")["volumes"],
    }
    with CmdlineParser.global_instance(command("pipeline")[1:]):
        root = pipeline.config.storage().root
    assert Path(dict(instructions())["WORKDIR"]) / root == Path("/app/data")
    assert flag("hadoop", "--dir") == HADOOP_DIR
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "conf" / "luigi.cfg")
    # luigid runs in /app, the image's WORKDIR: its relative state and task-history paths land on `data`.
    workdir = Path(dict(instructions())["WORKDIR"])
    history_db = cfg.get("task_history", "db_connection").removeprefix("sqlite:///")
    assert workdir / cfg.get("scheduler", "state_path") == Path("/app/data/luigid/state.pickle")
    assert workdir / history_db == Path("/app/data/luigid/task-history.db")


def test_tests_service_mounts_the_shared_mirror_read_only_where_the_image_expects_it() -> None:
    svc = service("tests")
    assert svc["volumes"] == [
        {"type": "bind", "source": "../../shared", "target": "/shared", "read_only": True}
    ]
    mount = svc["volumes"][0]
    # normpath, not resolve: ../shared may itself be a symlink (CI links it beside the clone).
    assert Path(os.path.normpath(DOCKER_DIR / mount["source"])) == REPO.parent / "shared"
    assert svc["environment"] == {"GUTENBERG_MIRROR": "/shared/gutenberg/mirror"}
    assert dict(instructions())["ENV"] == "GUTENBERG_MIRROR=" + svc["environment"]["GUTENBERG_MIRROR"]
    mirror_in_shared = Path(svc["environment"]["GUTENBERG_MIRROR"]).relative_to(mount["target"])
    assert mirror_in_shared == Path("gutenberg/mirror")
    assert (REPO.parent / "shared" / mirror_in_shared / "cache" / "epub").is_dir()


def test_exposed_and_published_ports_are_the_same_set() -> None:
    containers = [port for name in SERVICES for port in published(name)]
    assert sorted(containers) == sorted(exposed_ports())
    hosts = [entry.split(":")[0] for name in SERVICES for entry in service(name).get("ports", [])]
    # Published on loopback only: luigid, a Spark standalone master and this HDFS accept anyone who connects.
    assert hosts == ["127.0.0.1"] * len(exposed_ports())


def test_hadoop_service_runs_the_mini_cluster_in_the_foreground_as_the_hadoop_host(
    parse_hadoop_cluster: Callable[[list[str]], argparse.Namespace],
) -> None:
    args = parse_hadoop_cluster(command("hadoop")[1:])
    assert vars(args) == {
        "dir": HADOOP_DIR,
        "timeout": 180,
        "command": "start",
        "hdfs_port": 8020,
        "webhdfs_port": 9870,
        "node_memory_mb": 4096,
        "heap": "2g",
        "host": "hadoop",
        "foreground": True,
    }
    # HDFS hands clients --host as the NameNode's and the DataNode's name: the name of the service that
    # runs this command, which every container on the compose network resolves.
    services = compose()["services"]
    assert [name for name, svc in services.items() if svc["command"] == command("hadoop")] == [args.host]


def test_hadoop_healthcheck_is_the_scripts_status_of_the_same_dir(
    parse_hadoop_cluster: Callable[[list[str]], argparse.Namespace],
) -> None:
    check = service("hadoop")["healthcheck"]
    assert check["test"][:2] == ["CMD", command("hadoop")[0]]
    args = parse_hadoop_cluster(check["test"][2:])
    assert vars(args) == {"dir": HADOOP_DIR, "timeout": 180, "command": "status"}
    assert args.dir == flag("hadoop", "--dir")
    # Failures do not count while the cluster starts, which `start` allows --timeout (180 s) for.
    assert check["start_period"] == "180s"
    assert (check["interval"], check["timeout"], check["retries"]) == ("10s", "15s", 3)


def test_hdfs_ports_are_published_as_the_ports_the_cluster_listens_on(
    parse_hadoop_cluster: Callable[[list[str]], argparse.Namespace],
) -> None:
    args = parse_hadoop_cluster(command("hadoop")[1:])
    assert published("hadoop") == {args.hdfs_port: args.hdfs_port, args.webhdfs_port: args.webhdfs_port}
    assert published("hadoop") == {8020: 8020, 9870: 9870}
    assert service("hadoop")["ports"] == ["127.0.0.1:8020:8020", "127.0.0.1:9870:9870"]


def test_pipeline_storage_root_and_webhdfs_port_name_the_hadoop_service(
    parse_hadoop_cluster: Callable[[list[str]], argparse.Namespace],
) -> None:
    cluster = parse_hadoop_cluster(command("hadoop")[1:])
    with CmdlineParser.global_instance(command("pipeline-hdfs")[1:]):
        root = pipeline.config.storage().root
        webhdfs_port = webhdfs().port
    parts = urllib.parse.urlsplit(root)
    assert (parts.scheme, parts.hostname, parts.port, parts.path) == ("hdfs", "hadoop", 8020, "/gw")
    assert parts.hostname == cluster.host
    assert parts.port == cluster.hdfs_port
    assert webhdfs_port == cluster.webhdfs_port == 9870
    assert "hadoop" in service("pipeline-hdfs")["depends_on"]


def test_image_builds_the_mini_cluster_with_the_ci_maven_command(hadoop_cluster: types.ModuleType) -> None:
    ci = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    assert [line for line in ci if line.startswith("mvn ")] == [MAVEN_BUILD]
    [maven] = [args for args in runs() if "mvn" in args]
    # The CI command, offline on the Maven repository docker/build-offline resolved, when there is one.
    assert maven.endswith("&& " + MAVEN_BUILD.replace("-B ", '-B "$@" '))
    assert "cp -a /offline/m2 /root/.m2/repository && set -- --offline" in maven
    steps = instructions()
    build = steps.index(("RUN", maven))
    # The build step sees the pom and the Java main: scripts/hadoop is copied whole, right before it.
    assert steps[build - 1] == ("COPY", "scripts/hadoop ./scripts/hadoop")
    assert (REPO / "scripts" / "hadoop" / "pom.xml").is_file()
    assert (
        REPO / "scripts" / "hadoop" / "src" / "main" / "java" / "gutenberg" / "MiniCluster.java"
    ).is_file()
    # ... and leaves the classpath where the script reads it, relative to the script (in /app/scripts).
    assert hadoop_cluster.PROJECT == REPO / "scripts" / "hadoop"
    pom = (REPO / "scripts" / "hadoop" / "pom.xml").read_text()
    assert "<mdep.outputFile>${project.build.directory}/classpath.txt</mdep.outputFile>" in pom
    assert hadoop_cluster.MAIN_CLASS == "gutenberg.MiniCluster"

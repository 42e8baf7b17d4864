"""docker/Dockerfile and docker/compose.yaml refer only to things the project has (no Docker engine here).

The compose checks parse the file with yaml.safe_load and compare each service's command with what it
names: the executables, the Luigi task and flags (parsed by Luigi's own command-line parser), the
ports, the shared `data` volume and the Gutenberg mirror mount.
"""

from __future__ import annotations

import configparser
import inspect
import json
import os
import shlex
import sys
import tomllib
import urllib.parse
from pathlib import Path
from typing import Any

import luigi
import luigi.interface
import yaml
from luigi.cmdline_parser import CmdlineParser

import pipeline
import pipeline.config
from tests.support import REPO

DOCKER_DIR = REPO / "docker"
DOCKERFILE = DOCKER_DIR / "Dockerfile"
COMPOSE = DOCKER_DIR / "compose.yaml"
IMAGE = "gutenberg-wordcount"
SERVICES = {"luigid", "spark-master", "spark-worker", "pipeline", "tests"}
# Flags of luigi.interface.core, which has no section prefix on the command line.
LUIGI_CORE_FLAGS = {"--scheduler-host", "--scheduler-port", "--workers"}


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


def test_base_image_is_python_3_11_and_java_17_is_installed() -> None:
    steps = instructions()
    assert steps[0] == ("FROM", "python:3.11-slim-bookworm")
    runs = " ".join(args for op, args in steps if op == "RUN")
    assert "openjdk-17-jre-headless" in runs
    assert "procps" in runs


def test_every_copied_path_exists_and_is_not_ignored() -> None:
    ignored = (REPO / ".dockerignore").read_text().splitlines()
    copies = [shlex.split(args) for op, args in instructions() if op == "COPY"]
    sources = [src for parts in copies for src in parts[:-1]]
    assert sources == [
        "pyproject.toml",
        "README.md",
        "jobs",
        "pipeline",
        "conf",
        "scripts",
        "tests",
        "data/README.md",
    ]
    for src in sources:
        assert (REPO / src).exists(), src
        assert src not in ignored
        assert f"{src}/*" not in ignored
    assert "!data/README.md" in ignored
    # The image has no docker/ folder, so the suite it runs leaves out these checks of the repository.
    assert "tests/system/test_docker.py" in ignored


def test_installed_extra_exists_and_command_is_the_readme_test_command() -> None:
    steps = dict(instructions())
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert "-e '.[dev]'" in steps["RUN"] and "dev" in extras
    command = json.loads(steps["CMD"])
    assert command == ["python", "-m", "pytest", "-q"]
    assert "python -m pytest -q" in (REPO / "README.md").read_text()
    assert steps["ENV"] == "GUTENBERG_MIRROR=/shared/gutenberg/mirror"
    assert "GUTENBERG_MIRROR" in (REPO / "tests" / "support.py").read_text()


def test_image_exposes_the_scheduler_and_spark_ports() -> None:
    assert exposed_ports() == [8082, 7077, 8080, 8081]
    assert dict(instructions())["WORKDIR"] == "/app"


def test_compose_has_exactly_the_five_services_all_built_from_the_project_dockerfile() -> None:
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
    # Only the test suite is kept out of a plain `docker compose up`.
    assert {name for name, svc in spec["services"].items() if "profiles" in svc} == {"tests"}
    assert service("tests")["profiles"] == ["test"]


def test_every_command_executable_exists_in_the_repo_or_beside_python() -> None:
    executables = {name: command(name)[0] for name in SERVICES}
    assert executables == {
        "luigid": "scripts/luigid",
        "spark-master": "spark-class",
        "spark-worker": "spark-class",
        "pipeline": "luigi",
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


def test_pipeline_command_runs_a_task_of_the_pipeline_package() -> None:
    args = command("pipeline")
    assert args[1:4] == ["--module", "pipeline", "TopWordsSpark"]
    task_cls = getattr(pipeline, args[3])
    assert inspect.isclass(task_cls) and issubclass(task_cls, luigi.Task)
    assert args[3] in pipeline.__all__


def test_every_pipeline_flag_is_a_luigi_core_flag_or_a_config_parameter() -> None:
    flags = luigi_flags(command("pipeline"))
    assert flags == ["--scheduler-host", "--scheduler-port", "--spark-master", "--workers"]
    core_params = dict(luigi.interface.core.get_params())
    resolved = {}
    for option in flags:
        if option in LUIGI_CORE_FLAGS:
            param = option.removeprefix("--").replace("-", "_")
            assert param in core_params, option
            resolved[option] = ("core", param)
        else:
            resolved[option] = config_parameter(option)
    assert resolved == {
        "--scheduler-host": ("core", "scheduler_host"),
        "--scheduler-port": ("core", "scheduler_port"),
        "--spark-master": ("spark", "master"),
        "--workers": ("core", "workers"),
    }
    assert config_parameter("--spark-no-such-key") is None
    assert config_parameter("--gutenberg-base-url") == ("gutenberg", "base_url")


def test_luigi_parses_the_pipeline_command_into_the_compose_settings() -> None:
    with CmdlineParser.global_instance(command("pipeline")[1:]) as parser:
        task = parser.get_task_obj()
        core = luigi.interface.core()
        assert type(task) is pipeline.TopWordsSpark
        assert (core.scheduler_host, core.scheduler_port, core.workers) == ("luigid", 8082, 2)
        assert pipeline.config.spark().master == "spark://spark-master:7077"
        # WordCountSpark hands that master to spark-submit.
        assert task.word_count_task().master == "spark://spark-master:7077"


def test_scheduler_port_is_the_same_in_luigid_the_pipeline_the_published_port_and_luigi_cfg() -> None:
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "conf" / "luigi.cfg")
    port = int(flag("luigid", "--port"))
    assert port == 8082
    assert int(flag("pipeline", "--scheduler-port")) == port
    assert cfg.getint("core", "scheduler_port") == port
    assert published("luigid") == {port: port}
    assert flag("luigid", "--address") == "0.0.0.0"
    assert flag("pipeline", "--scheduler-host") in compose()["services"]
    assert flag("pipeline", "--scheduler-host") == "luigid"


def test_spark_master_url_names_the_master_service_and_its_published_port() -> None:
    url = flag("pipeline", "--spark-master")
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
    # Executors connect back to the driver by its host name, which other containers resolve only through
    # the service alias: `docker compose run` adds it with --use-aliases.
    assert service("pipeline")["hostname"] == "pipeline"
    assert "docker compose -f docker/compose.yaml run --rm --use-aliases pipeline" in COMPOSE.read_text()


def test_data_volume_is_the_storage_root_shared_by_luigid_the_worker_and_the_driver() -> None:
    spec = compose()
    assert set(spec["volumes"]) == {"data"}
    mounting = {name for name, svc in spec["services"].items() if "data:/app/data" in svc.get("volumes", [])}
    assert mounting == {"luigid", "spark-worker", "pipeline"}
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "conf" / "luigi.cfg")
    # /app is the image's WORKDIR and [storage] root is relative to it.
    root = cfg.get("storage", "root")
    assert f"{dict(instructions())['WORKDIR']}/{root}" == "/app/data"
    # luigid runs in /app too: its state and task-history database land on the same volume.
    assert Path(cfg.get("scheduler", "state_path")).parts[0] == root
    assert Path(cfg.get("task_history", "db_connection").removeprefix("sqlite:///")).parts[0] == root


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
    # Published on loopback only: luigid and a Spark standalone master accept anyone who connects.
    assert hosts == ["127.0.0.1"] * len(exposed_ports())

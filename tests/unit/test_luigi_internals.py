"""The Luigi internals pipeline/luigi_internals.py relies on, pinned: these fail when a Luigi release
changes them, before the pipeline silently loses its config defaults or its one-line errors."""

from __future__ import annotations

import inspect
import logging
import sys
from pathlib import Path

import luigi
import luigi.cmdline_parser
from luigi.configuration import LuigiConfigParser

import pipeline
from pipeline import luigi_internals
from pipeline.config import LUIGI_CFG


def test_the_luigi_release_these_were_written_against() -> None:
    assert luigi.__version__ == luigi_internals.LUIGI_VERSION


def test_luigis_config_path_order_with_ours_first() -> None:
    # Later files override earlier ones; LUIGI_CONFIG_PATH is appended after these at reload.
    paths = [p for p in LuigiConfigParser._config_paths if p != str(LUIGI_CFG)]
    assert paths[:4] == ["/etc/luigi/client.cfg", "/etc/luigi/luigi.cfg", "client.cfg", "luigi.cfg"]
    assert LuigiConfigParser._config_paths[0] == str(LUIGI_CFG)
    assert LuigiConfigParser._config_paths.count(str(LUIGI_CFG)) == 1
    source = inspect.getsource(LuigiConfigParser.reload)
    assert "cls.instance().read(cls._config_paths)" in source


def test_luigis_own_log_records_are_still_recognisable() -> None:
    import luigi.execution_summary
    import luigi.worker

    assert luigi_internals.EXECUTION_SUMMARY in inspect.getsource(luigi.execution_summary)
    worker = inspect.getsource(luigi.worker.TaskProcess)
    assert f'logger.exception("{luigi_internals.TASK_FAILED}    %s"' in worker


def test_using_the_project_config_twice_adds_it_once() -> None:
    before = list(LuigiConfigParser._config_paths)
    luigi_internals.use_project_config(LUIGI_CFG)
    assert LuigiConfigParser._config_paths == before


def test_the_command_line_parser_still_parses_in_get_task_kwargs() -> None:
    source = inspect.getsource(luigi.cmdline_parser.CmdlineParser._get_task_kwargs)
    assert "for param_name, param_obj in self._get_task_cls().get_params():" in source
    assert "param_obj.parse(attr)" in source


def test_a_bad_value_from_the_real_parser_is_one_line() -> None:
    # The real parser raising inside _get_task_kwargs, as `luigi --module pipeline TopBooks --date x` does.
    try:
        with luigi.cmdline_parser.CmdlineParser.global_instance(["TopBooks", "--date", "2026-13-40"]) as cp:
            cp.get_task_obj()
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "luigi-interface", logging.ERROR, __file__, 1, "Uncaught exception in luigi", (), exc_info
    )
    assert (
        luigi_internals.OneLineParameterErrors.one_line(record)
        == "ERROR: --date: '2026-13-40' is not a date (YYYY-MM-DD)"
    )


def test_filters_are_installed_once_on_luigis_logger() -> None:
    luigi_internals.install_one_line_errors()
    pipeline.console.install()
    filters = logging.getLogger("luigi-interface").filters
    assert sum(isinstance(f, luigi_internals.OneLineParameterErrors) for f in filters) == 1
    assert sum(isinstance(f, pipeline.console.LuigiChatter) for f in filters) == 1


def test_luigis_wheel_still_lacks_mrrunner_and_ours_stands_in() -> None:
    """When a luigi release ships contrib/mrrunner.py again, this fails: the stand-in can go."""
    from pipeline import mapreduce, mrrunner

    assert not (Path(luigi.__file__).parent / "contrib" / "mrrunner.py").exists()
    assert mapreduce.luigi_hadoop.mrrunner is mrrunner

"""scripts/luigid listens on loopback unless told otherwise: the arguments it hands luigid. That it really
listens there is tests/integration/test_security.py."""

from __future__ import annotations

import importlib.util
from importlib.machinery import SourceFileLoader

import pytest

from tests.support import REPO

LUIGID = REPO / "scripts" / "luigid"


def luigid_module():
    loader = SourceFileLoader("luigid_script", str(LUIGID))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], ["--address", "127.0.0.1"]),
        (["--port", "8090", "--background"], ["--address", "127.0.0.1", "--port", "8090", "--background"]),
        (["--address", "0.0.0.0"], ["--address", "0.0.0.0"]),
        (["--address=::1", "--port", "1"], ["--address=::1", "--port", "1"]),
        (["--addr", "10.0.0.1"], ["--addr", "10.0.0.1"]),  # argparse accepts unique prefixes
        (["--unix-socket", "/tmp/l.sock"], ["--unix-socket", "/tmp/l.sock"]),
        (["--unix=/tmp/l.sock"], ["--unix=/tmp/l.sock"]),
        (["--", "--address"], ["--address", "127.0.0.1", "--", "--address"]),
    ],
)
def test_luigid_adds_loopback_address_unless_given(argv: list[str], expected: list[str]) -> None:
    assert luigid_module().with_default_address(argv) == expected

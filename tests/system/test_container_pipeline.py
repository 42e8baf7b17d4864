"""Case 2 of the containers: the README's main command in the image, against the mirror served on the
host's loopback, writing to a mounted volume, gives the CSV a run outside the container gives, and that
CSV is the pure-Python count of the books the top page lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import (
    REPO,
    MirrorServer,
    expected_top_words_csv,
    listed_ids,
    mirror_dir,
    offline_args,
    run_luigi,
)
from tests.system.containers import image, podman

pytestmark = pytest.mark.container

DATE = "2026-11-20"
REPORT = f"top_words/spark/yesterday/{DATE}/books-10/top-50_stop-english.csv"


def test_main_command_in_the_container_writes_the_csv_a_run_outside_writes(tmp_path: Path) -> None:
    name = image()
    inside, outside = tmp_path / "inside", tmp_path / "outside"
    inside.mkdir()
    with MirrorServer(mirror_dir()) as mirror:
        # --network host: the container reaches the server on the host's 127.0.0.1; the storage root is
        # its default, data/ in /app, the mounted folder.
        run = podman(
            "run", "--rm", "--network", "host", "-v", f"{inside}:/app/data",
            name, "luigi", "--module", "pipeline", "TopWordsSpark",
            *offline_args(mirror.url, Path("data"), date=DATE),
            timeout=900, check=False,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        container_requests = list(mirror.requests)
        result = run_luigi("TopWordsSpark", *offline_args(mirror.url, outside, date=DATE), cwd=REPO)
        assert result.returncode == 0, result.stderr[-3000:]

    # The container fetched the top page and the ten books from the host's server.
    books = listed_ids((mirror_dir() / "browse" / "scores" / "top").read_text(encoding="utf-8"))[:10]
    assert container_requests == ["/browse/scores/top"] + [f"/cache/epub/{i}/pg{i}.txt" for i in books]
    written = (inside / REPORT).read_text(encoding="utf-8")
    assert written == (outside / REPORT).read_text(encoding="utf-8")
    assert written == expected_top_words_csv(books, 50, "english")

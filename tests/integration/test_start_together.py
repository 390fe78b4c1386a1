"""Several nodes started at the same moment on a new PostgreSQL database: each migrates at start."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from admit.db.migrate import head_revision
from tests.conftest import BACKENDS
from tests.nodes import ADMIT, fresh_postgresql, node_environment

pytestmark = pytest.mark.skipif("postgresql" not in BACKENDS, reason="several nodes share PostgreSQL")


def test_nodes_migrating_a_new_database_at_once_all_succeed_and_the_schema_is_made_once(
    tmp_path: Path,
) -> None:
    with fresh_postgresql() as url:
        env = node_environment(url, tmp_path / "data", {})
        upgrades = [
            subprocess.Popen(
                [str(ADMIT), "db", "upgrade"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            for _ in range(4)
        ]
        results = [(process.wait(timeout=120), process.stderr.read().decode()) for process in upgrades]  # type: ignore[union-attr]

        assert [code for code, _ in results] == [0] * 4, "\n".join(err[-1500:] for _, err in results)
        engine = create_engine(url)
        with engine.connect() as connection:
            assert list(connection.execute(text("SELECT version_num FROM alembic_version"))) == [
                (head_revision(),)
            ]
        engine.dispose()

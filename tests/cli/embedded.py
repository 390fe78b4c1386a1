"""The embedded default's settings, and a process that builds them again and again: apart from the test
module so that each process spawned for a race imports the settings alone (a fraction of a second)
rather than the test module's services, application and migrations (seconds each, eight at a time)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from admit.settings import Settings


def embedded(data_dir: Path) -> Settings:
    """The embedded default: no database URL, no secret key, no SMTP host, whatever the environment says."""
    return Settings(data_dir=data_dir, database_url="", secret_key="", redis_url="", smtp_host="")


def start_rounds(data_dir: str, rounds: int, barrier: Any, results: Any) -> None:
    """One process starting: each round, all of them build their settings on a fresh directory at once."""
    for round_ in range(rounds):
        barrier.wait()
        try:
            key = embedded(Path(data_dir) / f"round-{round_}").secret_key
        except Exception as exc:
            key = f"failed: {exc!r}"
        results.put((round_, key))

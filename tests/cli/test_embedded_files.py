"""The embedded mode's data directory: private to the service's user, and one key for every process.

The directory holds the key that signs staff tokens and seals ticket codes, the database with the
visitors' contact details, and e-mails carrying ticket codes. The tests run under the common umask 022,
under which files made with the defaults would be readable by every user of the machine.
"""

from __future__ import annotations

import multiprocessing
import os
import stat
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from pydantic import ValidationError

from admit import settings as settings_module
from admit.context import build_context
from admit.db.migrate import upgrade
from admit.mail.transport import transport_for
from admit.services.organizations import create_organization
from tests.cli.embedded import embedded, start_rounds

ROUNDS = 100  # the old check-then-write lost about one round in ten: a hundred show it
PROCESSES = 8


@pytest.fixture(autouse=True)
def common_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


def test_the_data_directory_and_every_file_in_it_are_private_to_the_services_user(tmp_path: Path) -> None:
    data = tmp_path / "state"
    settings = embedded(data)
    upgrade(settings.database_url)  # what `admit serve` does first
    context = build_context(settings)
    try:
        with context.sessions() as session, context.engine.connect():  # a connection keeps -wal and -shm
            create_organization(session, name="Museum", timezone="Europe/Amsterdam", now=context.clock.now())
            message = EmailMessage()
            message["Message-ID"] = "<reservation-1@admit.test>"
            message["To"] = "visitor@example.com"
            message.set_content("Your ticket code is ABCD-EFGH-JKMN-PQRS-TVWX")
            transport_for(settings).send(message)

            files = {path.name: mode(path) for path in data.rglob("*") if path.is_file()}
            assert files == {
                "secret_key": "0o600",
                "admit.db": "0o600",
                "admit.db-wal": "0o600",
                "admit.db-shm": "0o600",
                "reservation-1_admit.test.eml": "0o600",
            }
            assert (mode(data), mode(data / "mail")) == ("0o700", "0o700")
    finally:
        context.engine.dispose()


def test_processes_starting_together_on_a_fresh_directory_all_get_one_key(tmp_path: Path) -> None:
    spawn = multiprocessing.get_context("spawn")
    barrier, results = spawn.Barrier(PROCESSES), spawn.Queue()
    arguments = (str(tmp_path), ROUNDS, barrier, results)
    processes = [spawn.Process(target=start_rounds, args=arguments) for _ in range(PROCESSES)]
    for process in processes:
        process.start()
    keys: dict[int, list[str]] = {round_: [] for round_ in range(ROUNDS)}
    for _ in range(ROUNDS * PROCESSES):
        round_, key = results.get(timeout=120)  # a bounded wait: a stuck process fails the test
        keys[round_].append(key)
    for process in processes:
        process.join(timeout=30)

    for round_, started in keys.items():
        written = (tmp_path / f"round-{round_}" / "secret_key").read_text().strip()
        assert started == [written] * PROCESSES, f"round {round_}"
        assert len(written) >= 32


def test_a_process_waits_for_the_key_another_one_is_still_writing(tmp_path: Path) -> None:
    tmp_path.chmod(0o700)
    key_file = tmp_path / "secret_key"
    key_file.touch(mode=0o600)  # created by a process that has not written its key yet
    key = "k" * 64
    writer = threading.Timer(0.3, key_file.write_text, args=(f"{key}\n",))
    writer.start()
    try:
        assert embedded(tmp_path).secret_key == key
    finally:
        writer.join()


def test_a_key_file_left_empty_stops_the_start_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings_module, "SECRET_KEY_WAIT_SECONDS", 0.2)
    (tmp_path / "secret_key").touch(mode=0o600)  # its writer died before writing
    started = time.monotonic()
    with pytest.raises(ValidationError, match=r"secret key file .* is empty"):
        embedded(tmp_path)
    assert time.monotonic() - started < 10  # a bounded wait, not a hang

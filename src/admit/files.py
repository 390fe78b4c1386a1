"""The embedded mode's own files (database, secret key, mail): readable by the service's user alone.

The data directory holds the key that signs staff tokens and seals ticket codes, the database with
every visitor's contact details, and the e-mails with their ticket codes. Each is created with its
private mode from the start, rather than tightened afterwards, so it is never readable by others even
for a moment, whatever the process's umask.
"""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def private_directory(path: Path) -> Path:
    """`path` and any missing parent made 0700; a directory that exists is left as its owner set it."""
    missing = [path, *(parent for parent in path.parents)]
    for directory in reversed(missing):
        if not directory.exists():
            with suppress(FileExistsError):  # another process made it a moment ago
                directory.mkdir(mode=DIRECTORY_MODE)
    return path


def private_file(path: Path) -> Path:
    """An empty 0600 file at `path` unless one exists, for a library that will open and fill it."""
    private_directory(path.parent)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE))
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` (replacing its content), creating it 0600 when it is new."""
    private_directory(path.parent)
    descriptor = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, FILE_MODE)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


def create_exclusively(path: Path, data: bytes) -> bool:
    """Write `data` to a new 0600 file at `path`; False, writing nothing, if the file exists already.

    Of several processes starting together on a fresh directory exactly one creates the file; the
    others see it exist (perhaps still empty, for a moment) and read what the first one wrote.
    """
    private_directory(path.parent)
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    except FileExistsError:
        return False
    try:
        # A few bytes go in one write call: a reader sees the file empty or whole, never half of it.
        written = 0
        while written < len(data):
            written += os.write(descriptor, data[written:])
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return True

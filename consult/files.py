"""Files written whole or not at all: stored uploads, photos sealed again under a new key, backups."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def written_whole(path: Path, mode: int, *, replace: bool = True) -> Iterator[BinaryIO]:
    """A file to write to ``path``: it is written beside it under a partial name (``.<name>.part``,
    created with ``mode``), flushed to disk, and renamed to ``path`` once the block ends. So ``path`` is
    never seen half-written: a failure or a crash leaves it as it was (a crash may leave the partial
    file, which the next write under that name replaces). Without ``replace``, a partial file already
    there is an error (``FileExistsError``) rather than overwritten."""
    partial = path.with_name(f".{path.name}.part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if replace else os.O_EXCL), mode)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise

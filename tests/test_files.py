"""Files are written whole or not at all."""

from __future__ import annotations

import stat

import pytest

from consult.files import written_whole


def test_a_file_appears_whole_with_its_mode_and_no_partial_file_left(tmp_path):
    target = tmp_path / "photo.jpg"
    with written_whole(target, 0o640) as out:
        out.write(b"first half ")
        assert not target.exists()  # nothing under the name until the whole file is there
        out.write(b"second half")
    assert target.read_bytes() == b"first half second half"
    assert stat.S_IMODE(target.stat().st_mode) & 0o777 == 0o640 & ~_umask()
    assert [p.name for p in tmp_path.iterdir()] == ["photo.jpg"]


def test_a_failed_write_leaves_the_old_file_as_it_was(tmp_path):
    target = tmp_path / "backup.sealed"
    target.write_bytes(b"the previous backup")

    def fill_the_disk() -> None:
        with written_whole(target, 0o600) as out:
            out.write(b"half of the new one")
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        fill_the_disk()
    assert target.read_bytes() == b"the previous backup"
    assert [p.name for p in tmp_path.iterdir()] == ["backup.sealed"]


def test_without_replace_a_partial_file_of_the_same_name_is_an_error(tmp_path):
    target = tmp_path / "a.pdf"
    (tmp_path / ".a.pdf.part").write_bytes(b"another writer's")
    with pytest.raises(FileExistsError), written_whole(target, 0o640, replace=False):
        pass
    assert (tmp_path / ".a.pdf.part").read_bytes() == b"another writer's"  # left to its writer
    assert not target.exists()


def _umask() -> int:
    import os

    current = os.umask(0)
    os.umask(current)
    return current

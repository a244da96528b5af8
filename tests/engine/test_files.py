"""What a worker's directory receives from a file, a folder or a zip, and what is refused."""

from __future__ import annotations

import os
import zipfile

import pytest

from graders.engine.files import safe_relative, submission_files
from graders.engine.loading import LoadError
from graders.engine.sandbox import Sandbox


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("hw2.py", "hw2.py"),
        ("sub/utils.py", "sub/utils.py"),
        ("sub\\win.py", "sub/win.py"),
        ("../evil.py", None),
        ("a/../../evil.py", None),
        ("/etc/passwd", None),
        ("C:/x.py", None),
        (".hidden.py", None),
        ("__MACOSX/._hw2.py", None),
        ("a//b.py", "a/b.py"),
    ],
)
def test_safe_relative(name, expected):
    assert safe_relative(name) == expected


def test_single_file_with_an_awkward_name(tmp_path):
    path = tmp_path / "Élodie's hw2 (final).py"
    path.write_text("x = 1\n", encoding="utf-8")
    assert submission_files(path) == {"Élodie's hw2 (final).py": b"x = 1\n"}


def test_folder_keeps_siblings_skips_hidden_links_and_big_files(tmp_path):
    (tmp_path / "hw2.ipynb").write_text("{}")
    (tmp_path / "utils.py").write_text("def helper(): return 1\n")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "hw2-checkpoint.ipynb").write_text("{}")
    (tmp_path / "big.bin").write_bytes(b"\0" * 2000)
    os.symlink("/etc/passwd", tmp_path / "passwd.py")
    assert sorted(submission_files(tmp_path, max_bytes=1000)) == ["hw2.ipynb", "utils.py"]


def test_zip_slip_members_are_dropped(tmp_path):
    path = tmp_path / "sub.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("hw2.py", "x = 1\n")
        zf.writestr("../../escape.py", "boom\n")
        zf.writestr("/abs.py", "boom\n")
        zf.writestr("pkg/helper.py", "y = 2\n")
    assert sorted(submission_files(path)) == ["hw2.py", "pkg/helper.py"]


def test_corrupt_zip_is_a_load_error(tmp_path):
    path = tmp_path / "sub.zip"
    path.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(LoadError, match="Create the zip again"):
        submission_files(path)


def test_sandbox_refuses_to_write_outside_its_directory():
    sb = Sandbox({"../escape.py": b"x"})
    try:
        with pytest.raises(ValueError, match="outside the sandbox"):
            sb._prepare_dir()
    finally:
        sb.close()

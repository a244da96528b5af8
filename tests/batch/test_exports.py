"""Reading a batch's input: Gradescope exports (zip or folder) and plain folders, hand-built here."""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

import pytest

from graders.engine import exports
from graders.engine.exports import InputError, TooLarge, content_hash, entry_files, open_input

# As Gradescope's Rails app writes it: symbol keys, a Ruby-tagged score, a group of two.
METADATA = """\
submission_11:
  :submitters:
  - :name: Ada Lovelace
    :sid: '0042'
    :email: ada@example.edu
  - :name: Alan Turing
    :sid: '0043'
    :email: alan@example.edu
  :created_at: 2025-10-01 23:59:30.123456000 -07:00
  :score: !ruby/object:BigDecimal 18:0.475e2
  :history: []
submission_12:
  :submitters:
  - :name: Grace Hopper
    :sid: 7
    :email: grace@example.edu
  :created_at: 2025-10-02 08:00:00.000000000 +00:00
  :score: 12.5
submission_13:
  :submitters:
  - :name: Absent Folder
    :sid: '1'
    :email: absent@example.edu
"""


def gradescope_folder(root: Path) -> Path:
    export = root / "assignment_9_export"
    folders = {"submission_11": "hw.ipynb", "submission_12": "graph.py", "submission_99": "x.py"}
    for key, name in folders.items():
        (export / key).mkdir(parents=True)
        (export / key / name).write_text(f"# {key}\n", encoding="utf-8")
    (export / "submission_metadata.yml").write_text(METADATA, encoding="utf-8")
    return export


def test_a_gradescope_export_maps_folders_to_their_submitters(tmp_path):
    export = gradescope_folder(tmp_path)
    with open_input(export) as source:
        entries = {e.key: e for e in source.entries}
    assert source.kind == "gradescope"
    assert list(entries) == ["submission_11", "submission_12", "submission_13", "submission_99"]
    group = entries["submission_11"]
    assert [s["name"] for s in group.submitters] == ["Ada Lovelace", "Alan Turing"]
    assert group.submitters[0] == {"name": "Ada Lovelace", "sid": "0042", "email": "ada@example.edu"}
    assert group.metadata == {"created_at": "2025-10-01T23:59:30.123456-07:00", "gradescope_score": 47.5}
    assert entries["submission_12"].submitters[0]["sid"] == "7"
    assert entries["submission_12"].metadata["gradescope_score"] == 12.5
    assert entries["submission_13"].path is None  # listed, but its folder is not in the export
    assert entries["submission_99"].submitters == ()  # a folder the metadata does not list
    assert entry_files(entries["submission_11"]) == {"hw.ipynb": b"# submission_11\n"}


def test_a_zipped_export_is_read_the_same_and_unsafe_names_stay_inside(tmp_path, monkeypatch):
    export = gradescope_folder(tmp_path)
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for path in sorted(export.rglob("*")):
            out.write(path, path.relative_to(tmp_path).as_posix())
        out.writestr("../escaped.py", "x = 1\n")
        out.writestr("assignment_9_export/submission_12/../../../escaped2.py", "x = 1\n")
        out.writestr("/absolute.py", "x = 1\n")
    # The export is unpacked in a temporary folder made inside `unpack`: whatever is left there
    # afterwards escaped the unpacked copy, which is removed as a whole.
    unpack = tmp_path / "unpack"
    unpack.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(unpack))
    with open_input(archive) as source:
        keys = [e.key for e in source.entries]
        root = source.root
        files = entry_files(next(e for e in source.entries if e.key == "submission_12"))
    assert root.is_relative_to(unpack)
    assert keys == ["submission_11", "submission_12", "submission_13", "submission_99"]
    assert files == {"graph.py": b"# submission_12\n"}
    assert not root.exists()  # the unpacked copy is removed afterwards
    assert list(unpack.iterdir()) == []
    assert not (tmp_path.parent / "escaped.py").exists() and not (tmp_path / "escaped2.py").exists()
    assert not Path("/absolute.py").exists()


def test_a_plain_folder_holds_one_submission_per_file_or_folder(tmp_path):
    (tmp_path / "alice.ipynb").write_text("{}", encoding="utf-8")
    (tmp_path / "bob").mkdir()
    (tmp_path / "bob" / "hw.py").write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "bob" / ".secret").write_text("hidden\n", encoding="utf-8")
    (tmp_path / ".DS_Store").write_text("", encoding="utf-8")
    (tmp_path / "__MACOSX").mkdir()
    os.symlink("/etc/passwd", tmp_path / "carol.py")
    with open_input(tmp_path) as source:
        entries = {e.key: e for e in source.entries}
    assert source.kind == "folder"
    assert list(entries) == ["alice.ipynb", "bob"]
    assert entries["alice.ipynb"].submitters == ({"name": "alice", "sid": "", "email": ""},)
    assert entry_files(entries["bob"]) == {"hw.py": b"x = 1\n"}
    assert not entries["alice.ipynb"].is_folder and entries["bob"].is_folder


def test_a_zip_of_a_folder_of_submissions_is_unwrapped(tmp_path):
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("hw2 submissions/alice.py", "x = 1\n")
        out.writestr("hw2 submissions/bob.py", "x = 2\n")
    with open_input(archive) as source:
        assert [e.key for e in source.entries] == ["alice.py", "bob.py"]


def test_the_content_hash_follows_the_bytes_not_the_location(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    for folder in (one, two):
        (folder / "sub").mkdir(parents=True)
        (folder / "sub" / "a.py").write_text("x = 1\n", encoding="utf-8")
    hashes = [content_hash(entry_files(exports.Entry("k", folder))) for folder in (one, two)]
    assert hashes[0] == hashes[1]
    (two / "sub" / "a.py").write_text("x = 2\n", encoding="utf-8")
    assert content_hash(entry_files(exports.Entry("k", two))) != hashes[0]


def test_a_submission_too_large_to_ship_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(exports, "MAX_SUBMISSION_BYTES", 10)
    (tmp_path / "big.py").write_text("x = 12345678901234567890\n", encoding="utf-8")
    with pytest.raises(TooLarge, match="25 bytes .at most 10 are graded"):
        entry_files(exports.Entry("big.py", tmp_path / "big.py"))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "absent", "no such file"),
        (lambda p: (p / "notes.txt").write_text("hi") and p / "notes.txt", "give a Gradescope export"),
        (lambda p: (p / "bad.zip").write_bytes(b"not a zip") and p / "bad.zip", "not a zip file"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "no submissions found"),
        (
            lambda p: (p / "submission_metadata.yml").write_text("a: [unclosed") and p,
            "not readable YAML",
        ),
    ],
    ids=["missing", "not-an-export", "bad-zip", "empty", "bad-yaml"],
)
def test_unreadable_input_says_what_is_wrong(tmp_path, make, message):
    with pytest.raises(InputError, match=message), open_input(make(tmp_path)):
        pass

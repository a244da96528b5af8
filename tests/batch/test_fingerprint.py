"""A batch's grader fingerprint follows the grader's files, even when asked once per submission."""

from __future__ import annotations

import shutil

from graders.engine.batch_task import grader_fingerprint
from graders.engine.discovery import find


def test_the_fingerprint_changes_when_a_grader_file_is_edited_in_place(tmp_path):
    copy = tmp_path / "grader"
    shutil.copytree(find("computation_graph").folder, copy, ignore=shutil.ignore_patterns("__pycache__"))
    first = grader_fingerprint("computation_graph", str(copy))
    assert grader_fingerprint("computation_graph", str(copy)) == first  # asked again: the same
    test_file = sorted(copy.glob("test_*.py"))[0]
    test_file.write_text(test_file.read_text(encoding="utf-8") + "\n# a fixed test\n", encoding="utf-8")
    edited = grader_fingerprint("computation_graph", str(copy))
    assert edited["hash"] != first["hash"] and edited["version"] == first["version"]
    assert grader_fingerprint("computation_graph")["hash"] not in (first["hash"], edited["hash"])

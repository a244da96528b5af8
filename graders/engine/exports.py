"""A batch's input: a Gradescope "Export Submissions" zip or folder, or a plain folder of hand-ins.

Gradescope's export holds `submission_metadata.yml` beside one `submission_<id>/` folder per
submission; the metadata maps each folder to its submitters (name, sid, email), when it was
submitted and the score Gradescope gave it. Its keys are Ruby symbols (`:submitters:`), and
values may carry Ruby tags, so it is read with a safe loader that keeps the data and drops the
tags. A plain folder (or zip) holds one file or folder per student, named after the student.

Nothing here runs student code; files are only listed, hashed and read into memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import yaml

from graders.engine.files import safe_relative
from graders.engine.loading import is_ignored

METADATA = "submission_metadata.yml"
MAX_SUBMISSION_BYTES = 200_000_000  # one student's hand-in, read into memory to be shipped to a worker
MAX_SUBMISSION_FILES = 2_000
MAX_EXPORT_MEMBERS = 500_000


class InputError(Exception):
    """The batch's input cannot be read as an export or a folder; the message says what is wrong."""


class TooLarge(Exception):
    """One submission is too large to ship to a worker; it is recorded as invalid, never graded."""


@dataclass(frozen=True)
class Entry:
    """One submission of the input: where its files are and who handed it in."""

    key: str  # unique within the input: `submission_<id>`, or the file or folder name
    path: Path | None  # None: listed in the metadata but missing from the export
    submitters: tuple[dict, ...] = ()  # {"name", "sid", "email"}, all str
    metadata: dict = field(default_factory=dict)  # {"created_at": str, "gradescope_score": float | None}

    @property
    def is_folder(self) -> bool:
        return self.path is not None and self.path.is_dir()


@dataclass(frozen=True)
class Input:
    kind: str  # "gradescope" or "folder"
    root: Path
    entries: tuple[Entry, ...]


@contextlib.contextmanager
def open_input(path: str | os.PathLike) -> Iterator[Input]:
    """The input's submissions, sorted by key; a zip is unpacked into a private temporary folder."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if path.is_dir():
        yield _read_folder(path, descend=False)
        return
    if path.suffix.lower() != ".zip":
        raise InputError(f"{path}: give a Gradescope export (.zip or folder) or a folder of submissions")
    with tempfile.TemporaryDirectory(prefix="nngrade-export-") as tmp:
        _unpack(path, Path(tmp))
        yield _read_folder(Path(tmp), descend=True)


def _unpack(archive_path: Path, target: Path) -> None:
    """Extract every member under `target`, refusing names that would land outside it."""
    try:
        with zipfile.ZipFile(archive_path) as archive:
            members = archive.infolist()
            if len(members) > MAX_EXPORT_MEMBERS:
                raise InputError(f"{archive_path}: {len(members)} members; is this a Gradescope export?")
            for member in members:
                relative = safe_relative(member.filename.rstrip("/"))
                if relative is None or member.is_dir():
                    continue  # hidden files and unsafe names are never part of a hand-in
                destination = target / relative
                destination.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as source, open(destination, "wb") as sink:
                    while chunk := source.read(1 << 20):
                        sink.write(chunk)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as exc:
        raise InputError(f"{archive_path}: not a zip file that can be read ({exc})") from exc


def _visible(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not is_ignored(p.name) and not p.is_symlink())


def _read_folder(root: Path, *, descend: bool) -> Input:
    children = _visible(root)
    wrapped = len(children) == 1 and children[0].is_dir()
    # Gradescope zips wrap everything in `assignment_<id>_export/`; a zipped folder is wrapped too.
    if wrapped and ((children[0] / METADATA).is_file() or descend):
        root, children = children[0], _visible(children[0])
    if (root / METADATA).is_file():
        return Input("gradescope", root, _gradescope_entries(root))
    entries = tuple(
        Entry(key=p.name, path=p, submitters=({"name": p.stem, "sid": "", "email": ""},)) for p in children
    )
    if not entries:
        raise InputError(f"{root}: no submissions found (an empty folder)")
    return Input("folder", root, entries)


def _gradescope_entries(root: Path) -> tuple[Entry, ...]:
    try:
        metadata = yaml.load((root / METADATA).read_text(encoding="utf-8"), Loader=_MetadataLoader)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"{root / METADATA}: not readable YAML ({exc})") from exc
    metadata = _plain(metadata)
    if not isinstance(metadata, dict):
        raise InputError(f"{root / METADATA}: expected a mapping of submission folders to their metadata")
    folders = {p.name: p for p in _visible(root) if p.is_dir()}
    entries = []
    for key in sorted(set(metadata) | set(folders)):
        record = metadata.get(key)
        record = record if isinstance(record, dict) else {}
        people = record.get("submitters")
        people = people if isinstance(people, list) else []
        submitters = tuple(
            {f: _string(person.get(f)) for f in ("name", "sid", "email")}
            for person in people
            if isinstance(person, dict)
        )
        entries.append(
            Entry(
                key=str(key),
                path=folders.get(key),
                submitters=submitters,
                metadata={
                    "created_at": _string(record.get("created_at")),
                    "gradescope_score": _score(record.get("score")),
                },
            )
        )
    return tuple(entries)


class _MetadataLoader(yaml.SafeLoader):
    """SafeLoader that reads Ruby-tagged values (`!ruby/object:...`) as the plain data under the tag."""


def _untagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node):
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_MetadataLoader.add_multi_constructor("!", _untagged)


def _plain(value):
    """Ruby symbol keys (':name') as plain names, dates as ISO strings, recursively."""
    if isinstance(value, dict):
        return {str(k).lstrip(":"): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _score(value) -> float | None:
    """A number, or Ruby's BigDecimal dump ("18:0.45e2") read as one; None when there is none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.rpartition(":")[2]
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _string(value) -> str:
    return "" if value is None else str(value)


def entry_files(entry: Entry) -> dict[str, bytes]:
    """Relative name -> bytes of one submission (a file keeps its own name); raises TooLarge."""
    if entry.path is None:
        return {}
    if not entry.path.is_dir():
        size = entry.path.stat().st_size
        if size > MAX_SUBMISSION_BYTES:
            raise TooLarge(f"{entry.key} is {size:,} bytes (at most {MAX_SUBMISSION_BYTES:,} are graded)")
        return {entry.path.name: entry.path.read_bytes()}
    files, total = {}, 0
    for folder, dirs, names in os.walk(entry.path):  # symlinked folders are not followed
        dirs[:] = sorted(d for d in dirs if not is_ignored(d))
        for name in sorted(names):
            full = Path(folder, name)
            relative = safe_relative(full.relative_to(entry.path).as_posix())
            if relative is None or full.is_symlink() or not full.is_file():
                continue
            total += full.stat().st_size
            if total > MAX_SUBMISSION_BYTES or len(files) >= MAX_SUBMISSION_FILES:
                raise TooLarge(
                    f"{entry.key} holds more than {MAX_SUBMISSION_FILES:,} files or "
                    f"{MAX_SUBMISSION_BYTES:,} bytes"
                )
            files[relative] = full.read_bytes()
    return files


def content_hash(files: dict[str, bytes]) -> str:
    """sha256 over the names and contents: the same hand-in gives the same hash wherever it lies."""
    digest = hashlib.sha256()
    for name in sorted(files):
        data = files[name]
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()

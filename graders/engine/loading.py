"""A submission file (.ipynb, .py, a folder or a .zip of them) -> the top-level statements to execute.

Nothing here runs student code: files are read and parsed, never imported or executed. The
worker executes the returned statements in order; `cleaning.py` turns text into parsed
statements and `selection.py` decides which of them to keep.
"""

from __future__ import annotations

import json
import os
import stat
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from graders.engine.cleaning import Note, Notes, Place, Statement, parse_cell, parse_script
from graders.engine.selection import MODES, select

__all__ = ["LoadError", "LoadedSubmission", "Note", "Statement", "load_source", "load_submission"]

SUFFIXES = (".ipynb", ".py")
MAX_CANDIDATES = 50  # files of a folder or zip that are read at most (the most likely ones first)
MAX_ZIP_ENTRIES = 10_000  # past this a zip is not a homework hand-in, and listing it costs memory
ARCHIVE_BUDGET_FACTOR = 4  # a folder or zip may make us read this many times max_bytes in all
_IGNORED_DIRS = frozenset({"__MACOSX", "__pycache__"})
_DOWNLOAD_AGAIN = (
    "Download it again from Jupyter (File > Download) or Colab (File > Download > Download .ipynb) "
    "and submit that file."
)


class LoadError(Exception):
    """The whole submission is unusable; the message says why in terms a student can act on."""


@dataclass(frozen=True)
class LoadedSubmission:
    """What the worker executes, statement by statement in order, and notes on what it leaves out."""

    path: str
    statements: tuple[Statement, ...]
    notes: tuple[Note, ...]

    def defined_names(self) -> set[str]:
        """Every module-level name the kept statements bind."""
        return {name for statement in self.statements for name in statement.names}

    def source(self) -> str:
        """The kept statements as one script, each under a comment saying where it came from."""
        return "\n\n".join(f"# {s.origin}\n{s.source}" for s in self.statements) + "\n"

    def explain_missing(self, name: str) -> str | None:
        """Why `name` is undefined when grading, if a statement the grader skipped would have set it."""
        for note in self.notes:
            if name in note.binds:
                return (
                    f"`{name}` is set by top-level code the grader does not run ({note.origin}: "
                    f"{note.snippet}). Compute it inside the function, or pass it in as an argument."
                )
        return None


def load_submission(
    path: str | os.PathLike,
    required_names: Iterable[str] = (),
    mode: str = "definitions",
    max_bytes: int = 20_000_000,
) -> LoadedSubmission:
    """Read and parse a submission without executing any of it.

    A folder or zip is searched for the .py/.ipynb defining the most of `required_names`; ties
    go to a notebook, then to the shorter path. mode "definitions" keeps only definitions (see
    `selection.py`); mode "full" keeps every statement that parses. Origins read "line 40" in a
    script and "cell 4, line 2" in a notebook, cells numbered from 1 over code cells only.
    Raises LoadError, with a message for the student, when nothing usable can be read.
    """
    _check_mode(mode)
    if not isinstance(max_bytes, int) or max_bytes < 1:
        raise ValueError(f"max_bytes must be a positive integer, not {max_bytes!r}")
    if isinstance(required_names, str):
        raise TypeError("required_names must be a collection of names, not one string")
    required = tuple(required_names)
    path = Path(path)
    if path.is_dir():
        return _load_folder(path, required, mode, max_bytes)
    if not path.exists():
        raise LoadError(f"No file named {path.name} was submitted.")
    if path.suffix.lower() == ".zip":
        return _load_zip(path, required, mode, max_bytes)
    _check_suffix(path.name)
    return _load_bytes(_read_file(path, max_bytes), os.fspath(path), mode)


def load_source(text: str, filename: str = "submission.py", mode: str = "definitions") -> LoadedSubmission:
    """Parse Python source already in memory (a .py file's text) as load_submission would."""
    _check_mode(mode)
    return _from_script(_check_text(text.removeprefix("\ufeff"), Path(filename).name), filename, mode)


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")


def _check_suffix(name: str) -> None:
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in SUFFIXES:
        kind = f"a {suffix} file" if suffix else "a file without an extension"
        raise LoadError(
            f"{name} is {kind}, which cannot be graded. Submit your notebook (.ipynb), "
            "its Python export (.py), or a .zip holding one of them."
        )


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.1f} kB"


def _too_big(name: str, size: int, max_bytes: int) -> LoadError:
    return LoadError(
        f"{name} is {_size(size)}, over the {_size(max_bytes)} limit. Clear the outputs "
        "(Edit > Clear all outputs) before downloading, and leave data files out of the submission."
    )


def _read_file(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, refused by its size before anything is read."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise LoadError(f"{path.name} is not a regular file.")
        if info.st_size > max_bytes:
            raise _too_big(path.name, info.st_size, max_bytes)
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)  # a file still growing must not get past the limit
    except OSError as exc:
        raise LoadError(f"{path.name} cannot be read: {exc.strerror or exc}.") from exc
    if len(data) > max_bytes:
        raise _too_big(path.name, len(data), max_bytes)
    return data


def _decode(data: bytes, name: str) -> str:
    """Text from bytes: UTF-8 with or without a BOM, or UTF-16 with a BOM (some Windows editors)."""
    if not data:
        raise LoadError(
            f"{name} is empty (0 bytes). Check that you saved your work and uploaded the right file."
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return _check_text(data.decode("utf-16"), name)
        except UnicodeDecodeError:
            pass  # not really UTF-16: the NUL check below says it is binary
    if b"\x00" in data:
        raise LoadError(
            f"{name} is not a text file (it contains binary data). "
            "Submit your notebook (.ipynb) or its Python export (.py)."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise LoadError(
            f"{name} is not UTF-8 text (the first bad byte is on line {line}). "
            "Save it with UTF-8 encoding, or download it again from Jupyter or Colab."
        ) from exc
    return _check_text(text, name)


def _check_text(text: str, name: str) -> str:
    if not text.strip():
        raise LoadError(f"{name} holds no code: it is empty or only blank space.")
    if "\x00" in text:
        raise LoadError(f"{name} is not a text file (it contains NUL characters).")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _load_bytes(data: bytes, path: str, mode: str) -> LoadedSubmission:
    name = PurePosixPath(path.replace(os.sep, "/")).name
    text = _decode(data, name)
    if name.lower().endswith(".ipynb"):
        return _from_notebook(_notebook_json(text, name), name, path, mode)
    if text.lstrip().startswith("{"):
        raw = _try_json(text)
        if isinstance(raw, dict) and ("cells" in raw or "worksheets" in raw):
            # A notebook saved under a .py name: read it as what it is, and say so.
            loaded = _from_notebook(raw, name, path, mode)
            note = Note("submission", 0, f"{name} holds a Jupyter notebook (JSON); read as a notebook", "")
            return LoadedSubmission(loaded.path, loaded.statements, (note, *loaded.notes))
    return _from_script(text, path, mode)


def _try_json(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _from_script(text: str, path: str, mode: str) -> LoadedSubmission:
    notes = Notes()
    statements = select(parse_script(text, notes), mode, notes)
    return LoadedSubmission(path, tuple(statements), notes.sorted())


def _notebook_json(text: str, name: str) -> dict:
    try:
        raw = json.loads(text)
    except ValueError as exc:
        where = f" at line {exc.lineno}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise LoadError(
            f"{name} is corrupted: it is not valid notebook JSON{where}. {_DOWNLOAD_AGAIN}"
        ) from exc
    if not isinstance(raw, dict) or not ("cells" in raw or "worksheets" in raw):
        raise LoadError(f"{name} is JSON but not a Jupyter notebook (it has no cells). {_DOWNLOAD_AGAIN}")
    return raw


def _from_notebook(raw: dict, name: str, path: str, mode: str) -> LoadedSubmission:
    """Statements of every code cell in order; cells are numbered from 1 over code cells only."""
    notes = Notes()
    units = []
    for number, source in enumerate(_code_cells(raw, name), 1):
        units.extend(parse_cell(source, Place(number, f"cell {number}"), notes))
    statements = select(units, mode, notes)
    return LoadedSubmission(path, tuple(statements), notes.sorted())


def _code_cells(raw: dict, name: str) -> list[str]:
    """Source of each code cell, read through nbformat (older formats upgraded to version 4)."""
    import nbformat  # here, not at the top: a .py submission need not pay 20 ms for it

    raw.setdefault("metadata", {})  # nbformat refuses a notebook without it; nothing here needs it
    try:
        major, minor = nbformat.reader.get_version(raw)
        with warnings.catch_warnings():  # nbformat warns about missing cell ids and the like: harmless here
            warnings.simplefilter("ignore")
            notebook = nbformat.convert(nbformat.versions[major].to_notebook_json(raw, minor=minor), 4)
    except Exception as exc:  # whatever nbformat trips over in hostile JSON, it means the same thing
        raise LoadError(f"{name} is not a notebook Jupyter can read ({exc}). {_DOWNLOAD_AGAIN}") from exc
    metadata = notebook.get("metadata")
    language_info = metadata.get("language_info") if isinstance(metadata, dict) else None
    language = language_info.get("name") if isinstance(language_info, dict) else None
    if isinstance(language, str) and language.lower() != "python":
        raise LoadError(f"{name} is a notebook for {language}; this assignment needs a Python notebook.")
    cells = notebook.get("cells")
    sources = [_cell_source(cell) for cell in (cells if isinstance(cells, list) else [])]
    sources = [source for source in sources if source.strip()]
    if not sources:
        raise LoadError(
            f"{name} has no code cells with code in them. Check that you submitted your own notebook."
        )
    return sources


def _cell_source(cell: object) -> str:
    """A code cell's text ("" for other cells, or a source nbformat left in an odd shape)."""
    if not isinstance(cell, dict) or cell.get("cell_type") != "code":
        return ""
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(part, str) for part in source):
        source = "".join(source)
    return source.replace("\r\n", "\n").replace("\r", "\n") if isinstance(source, str) else ""


# ---------------------------------------------------------------------------------------------
# Folders and zip files: pick the one file that holds the work
# ---------------------------------------------------------------------------------------------


def is_ignored(relative: str) -> bool:
    """Hidden files and folders, and OS debris such as __MACOSX, are never part of a hand-in."""
    parts = PurePosixPath(relative).parts
    return any(part.startswith(".") or part in _IGNORED_DIRS for part in parts)


def _preference(relative: str) -> tuple[int, int, str]:
    """Before knowing what files define: notebooks first, then shorter paths (top-level files)."""
    return (0 if relative.lower().endswith(".ipynb") else 1, len(relative), relative)


def _load_folder(root: Path, required: tuple[str, ...], mode: str, max_bytes: int) -> LoadedSubmission:
    found, others, sizes = [], [], {}
    for folder, dirs, files in os.walk(root):  # symlinked folders are not followed
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _IGNORED_DIRS)
        for file_name in files:
            full = Path(folder, file_name)
            relative = full.relative_to(root).as_posix()
            if is_ignored(relative) or full.is_symlink():  # a link could point anywhere on the grader
                continue
            if full.suffix.lower() not in SUFFIXES:
                others.append(relative)
                continue
            try:
                sizes[relative] = full.stat().st_size
            except OSError:
                continue  # vanished or unreadable: as if it were not there
            found.append(relative)

    def read(relative: str) -> bytes:
        return _read_file(root / relative, max_bytes)

    return _pick(root.name, found, others, sizes, read, required, mode, max_bytes)


def _load_zip(path: Path, required: tuple[str, ...], mode: str, max_bytes: int) -> LoadedSubmission:
    # Only the zip's directory is read up front; members are inflated one at a time, into memory.
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise LoadError(
            f"{path.name} is not a zip file that can be opened ({exc}). Create the zip again."
        ) from exc
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ZIP_ENTRIES:
            raise LoadError(f"{path.name} holds {len(entries)} files; zip only your notebook or script.")
        return _pick_from_zip(path.name, archive, entries, required, mode, max_bytes)


def _pick_from_zip(
    container: str,
    archive: zipfile.ZipFile,
    entries: list[zipfile.ZipInfo],
    required: tuple[str, ...],
    mode: str,
    max_bytes: int,
) -> LoadedSubmission:
    members = {info.filename: info for info in entries if not info.is_dir()}
    found, others = [], []
    for relative in members:
        if not is_ignored(relative):
            (found if PurePosixPath(relative).suffix.lower() in SUFFIXES else others).append(relative)

    def read(relative: str) -> bytes:
        # Never extracted to disk; and at most max_bytes + 1 are inflated, whatever the header claims.
        try:
            with archive.open(members[relative]) as member:
                content = member.read(max_bytes + 1)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError, zlib.error) as exc:
            raise LoadError(f"{relative} cannot be read from {container} ({exc}).") from exc
        if len(content) > max_bytes:
            raise _too_big(relative, len(content), max_bytes)
        return content

    sizes = {relative: members[relative].file_size for relative in found}
    return _pick(container, found, others, sizes, read, required, mode, max_bytes)


def _pick(
    container: str,
    found: list[str],
    others: list[str],
    sizes: dict[str, int],
    read: Callable[[str], bytes],
    required: tuple[str, ...],
    mode: str,
    max_bytes: int,
) -> LoadedSubmission:
    """Load each candidate file (most likely first, within a byte budget) and keep the best one."""
    notes = Notes()
    if not found:
        seen = ", ".join(sorted(others)[:5]) or "nothing"
        raise LoadError(f"{container} holds no .ipynb or .py file (found: {seen}). Submit your notebook.")
    budget = ARCHIVE_BUDGET_FACTOR * max_bytes
    loaded, failures = [], []
    for relative in sorted(found, key=_preference)[:MAX_CANDIDATES]:
        if sizes[relative] > max_bytes:
            failures.append(str(_too_big(relative, sizes[relative], max_bytes)))
            continue
        if sizes[relative] > budget:
            failures.append(f"{relative} was not read: the files before it used up the size budget.")
            continue
        try:
            content = read(relative)
            budget -= len(content)
            loaded.append(_load_bytes(content, relative, mode))
        except LoadError as exc:
            failures.append(str(exc))
    if len(found) > MAX_CANDIDATES:
        failures.append(f"{len(found) - MAX_CANDIDATES} more .py/.ipynb files were not looked at.")
    if not loaded:
        raise LoadError(f"No usable notebook or script in {container}: " + " ".join(failures))

    def score(submission: LoadedSubmission) -> int:
        return len(set(required) & submission.defined_names())

    best = min(loaded, key=lambda s: (-score(s), _preference(s.path)))
    why = (
        f"it defines {score(best)} of the {len(set(required))} required names"
        if required
        else "no names required"
    )
    rivals = ", ".join(f"{s.path} ({score(s)})" for s in loaded if s is not best)
    reason = f"graded {best.path} from {container}: {why}" + (
        f"; other candidates: {rivals}" if rivals else ""
    )
    notes.add(None, 0, reason, best.path)
    for failure in failures:
        notes.add(None, 0, f"skipped: {failure}", failure)
    return LoadedSubmission(best.path, best.statements, (*notes.sorted(), *best.notes))

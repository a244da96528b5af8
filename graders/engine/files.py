"""The files a worker's private directory receives: the submission and, for a folder or zip, its
siblings (helper modules a notebook imports, small data files).

Names come from the student (a zip's member names especially), so each is reduced to a plain
relative path: no absolute paths, no `..`, no hidden files or links. Sizes are bounded per file,
in count, and in total. Nothing is extracted to disk here; the sandbox writes the bytes itself.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from graders.engine.loading import MAX_ZIP_ENTRIES, LoadError, is_ignored

MAX_FILES = 200


def safe_relative(name: str) -> str | None:
    """`name` as a clean relative POSIX path, or None if it tries to leave its folder."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or not path.parts or any(part in ("..", "") for part in path.parts):
        return None
    if is_ignored(path.as_posix()) or ":" in path.parts[0]:
        return None
    return path.as_posix()


def submission_files(path: str | os.PathLike, max_bytes: int = 20_000_000) -> dict[str, bytes]:
    """Relative name -> content for everything the worker should see, at most 4 x max_bytes in all."""
    path = Path(path)
    budget = 4 * max_bytes
    files: dict[str, bytes] = {}

    def add(name: str | None, size: int, read) -> None:
        nonlocal budget
        if name is None or size > max_bytes or size > budget or len(files) >= MAX_FILES:
            return  # skipped: the loader already tells the student about files it could not use
        data = read()
        if len(data) <= max_bytes:
            files[name] = data
            budget -= len(data)

    if path.is_dir():
        for folder, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not is_ignored(d))
            for file_name in sorted(names):
                full = Path(folder, file_name)
                if full.is_symlink() or not full.is_file():
                    continue
                rel = safe_relative(full.relative_to(path).as_posix())
                add(rel, full.stat().st_size, full.read_bytes)
    elif path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                infos = archive.infolist()
                if len(infos) > MAX_ZIP_ENTRIES:
                    raise LoadError(
                        f"{path.name} holds {len(infos)} files; zip only your notebook or script."
                    )
                for info in infos:
                    if info.is_dir():
                        continue
                    add(
                        safe_relative(info.filename),
                        info.file_size,
                        lambda info=info: archive.open(info).read(max_bytes + 1),
                    )
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError, zlib.error) as exc:
            raise LoadError(
                f"{path.name} is not a zip file that can be opened ({exc}). Create the zip again."
            ) from exc
    else:
        add(safe_relative(path.name) or "submission" + path.suffix, path.stat().st_size, path.read_bytes)
    return files

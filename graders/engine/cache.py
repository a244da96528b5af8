"""A small on-disk cache of JSON values the trusted grader computes and would otherwise repeat.

Used for figures that depend only on trusted inputs (the reference and the data), such as the
reference's accuracy under a training protocol. The key is hashed with everything the value
depends on, so a changed reference or data set is a miss, never a stale hit. The directory is
$NNGRADE_CACHE_DIR, else ~/.cache/nngrade; it belongs to the grading user, never to the sandbox
user. A cache that cannot be read or written is simply not used.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def cache_dir() -> Path:
    return Path(os.environ.get("NNGRADE_CACHE_DIR") or Path.home() / ".cache" / "nngrade")


def fingerprint(*parts: bytes | str) -> str:
    """sha256 over the parts, each length-prefixed so that ("ab", "c") != ("a", "bc")."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else bytes(part)
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def cached_json(namespace: str, key: dict, compute: Callable[[], Any]) -> Any:
    """compute()'s JSON-serialisable value, from the cache when the same key was computed before."""
    path = cache_dir() / namespace / f"{fingerprint(json.dumps(key, sort_keys=True))}.json"
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        if stored.get("key") == key:
            return stored["value"]
    except (OSError, ValueError, AttributeError, KeyError):
        pass
    value = compute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as fh:
            json.dump({"key": key, "value": value}, fh)
        os.replace(fh.name, path)
    except OSError:
        pass  # a read-only home, a full disk: grading goes on, just without the cache
    return value

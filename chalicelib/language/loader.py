"""Find interview files on the interview path and keep them parsed.

`i=NAME` is a path relative to one of the folders; the first folder holding it
wins (bundled interviews first, then INTERVIEW_PATH). A parsed interview is
cached until its file changes, so a warm Lambda parses each file once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from chalicelib.language.blocks import Interview
from chalicelib.language.errors import InterviewNotFoundError
from chalicelib.language.parser import parse_interview

# A longer name, or a part of it (between slashes) longer than 255 bytes, cannot be a file:
# the OS would refuse to look it up.
MAX_NAME_CHARS = 1024
MAX_NAME_PART_BYTES = 255


class InterviewLoader:
    def __init__(self, folders: Sequence[Path]) -> None:
        self.folders = tuple(Path(f) for f in folders)
        self._cache: dict[Path, tuple[float, Interview]] = {}
        self._lock = threading.Lock()

    def path_of(self, name: str) -> Path:
        cleaned = name.strip()
        if len(cleaned) > MAX_NAME_CHARS or any(len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_PART_BYTES
                                                for part in cleaned.split("/")):
            raise InterviewNotFoundError(
                f"an interview name of {len(cleaned):,} characters is not valid: expected a .yml file relative to "
                f"the interview path, of at most {MAX_NAME_CHARS} characters and {MAX_NAME_PART_BYTES} bytes between "
                "slashes"
            )
        if not cleaned or cleaned.startswith(("/", "\\")) or ".." in Path(cleaned).parts \
                or not cleaned.endswith((".yml", ".yaml")):
            raise InterviewNotFoundError(
                f"interview {name!r} is not a valid name: expected a .yml file relative to the interview path"
            )
        for folder in self.folders:
            candidate = folder / cleaned
            if candidate.is_file():
                return candidate
        raise InterviewNotFoundError(
            f"no interview named {name!r}: expected a file of that name in the bundled interviews or a folder "
            "of INTERVIEW_PATH"
        )

    def load(self, name: str) -> Interview:
        path = self.path_of(name)
        mtime = path.stat().st_mtime
        cached = self._cache.get(path)
        if cached and cached[0] == mtime:
            return cached[1]
        interview = parse_interview(path.read_text(encoding="utf-8"), name)
        with self._lock:
            self._cache[path] = (mtime, interview)
        return interview

    def names(self) -> Iterator[str]:
        seen: set[str] = set()
        for folder in self.folders:
            if not folder.is_dir():
                continue
            for path in sorted(folder.rglob("*.y*ml")):
                name = path.relative_to(folder).as_posix()
                if name not in seen:
                    seen.add(name)
                    yield name

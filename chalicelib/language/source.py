"""Split an interview file into YAML documents, keeping line numbers.

A docassemble interview is a multi-document YAML file. We split on the
document separator ourselves so that each block knows the line it starts on,
and so that a YAML error can be reported against the file's own line numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from chalicelib.language.errors import InterviewSyntaxError

try:  # the C loader is several times faster when libyaml is present
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader

_SEPARATOR = re.compile(r"^---\s*$")


@dataclass(frozen=True)
class RawBlock:
    """One YAML document of the file: its data, first line and position (from 1)."""

    data: dict[str, Any]
    line: int
    number: int
    text: str


def _chunks(text: str) -> list[tuple[int, str]]:
    """(first line number, text) of each document, separators removed."""
    chunks: list[tuple[int, str]] = []
    start, lines = 1, list[str]()
    for lineno, line in enumerate(text.splitlines(), start=1):
        if _SEPARATOR.match(line):
            chunks.append((start, "\n".join(lines)))
            start, lines = lineno + 1, []
        else:
            lines.append(line)
    chunks.append((start, "\n".join(lines)))
    return chunks


def _first_content_line(start: int, chunk: str) -> int:
    for offset, line in enumerate(chunk.splitlines()):
        if line.strip() and not line.lstrip().startswith("#"):
            return start + offset
    return start


def read_blocks(text: str, filename: str) -> list[RawBlock]:
    """Parse every document; empty documents are skipped, but still counted."""
    blocks: list[RawBlock] = []
    for number, (start, chunk) in enumerate(_chunks(text), start=1):
        try:
            data = yaml.load(chunk, Loader=_Loader)  # safe loader
        except yaml.MarkedYAMLError as err:
            mark = err.problem_mark or err.context_mark
            line = start + (mark.line if mark else 0)
            raise InterviewSyntaxError(
                f"this is not valid YAML: {err.problem or err}",
                file=filename, line=line, block=number,
                hint="Check the indentation and quoting of this line and the ones above it.",
            ) from err
        except yaml.YAMLError as err:
            raise InterviewSyntaxError(f"this is not valid YAML: {err}", file=filename,
                                       line=start, block=number) from err
        if data is None:
            continue
        if not isinstance(data, dict):
            raise InterviewSyntaxError(
                f"expected a block of 'key: value' directives, found a {type(data).__name__}",
                file=filename, line=_first_content_line(start, chunk), block=number,
                hint="Each block between '---' lines must be a mapping such as 'question: ...'.",
            )
        blocks.append(RawBlock(data, _first_content_line(start, chunk), number, chunk))
    return blocks

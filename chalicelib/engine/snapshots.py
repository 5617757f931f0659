"""Snapshots a turn asked for (`store_variables_snapshot`), written with the turn's commit.

The engine only collects them (`Evaluation.snapshots`, by tag); the runtime seals each one like
its session and hands it to the commit, so a turn that stores a snapshot is still one write.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_TAG_CHARS = 200  # the `key` argument
MAX_SNAPSHOT_BYTES = 256 * 1024  # the JSON text; a DynamoDB item holds at most 400 KB
MAX_SNAPSHOTS_PER_TURN = 10  # distinct tags in one turn (each is two writes of the commit)
DIGESTS_NAME = "_snapshots"  # among the answers: tag → digest of the snapshot stored last


@dataclass(frozen=True)
class NewSnapshot:
    tag: str  # "" when no key was given
    text: str  # the JSON
    persistent: bool

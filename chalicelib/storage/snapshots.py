"""Variable snapshots (`store_variables_snapshot`): JSON kept outside the session's steps.

One snapshot per (interview, session, tag), replaced by the next one with the same tag. In
DynamoDB a snapshot lives in its interview's partition, `snapshot#<interview>`, sort key
`<session>#<tag>`, so an admin lists an interview's snapshots (or one session's) with a Query.
A snapshot that is not `persistent` also leaves a pointer in the session's partition
(`snapref#<json [interview, tag]>`): deleting the session (or the purge) deletes the snapshot
through it, as the mail address's item is found through its copy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from chalicelib.storage.records import BlobKind, Sealed

SNAPSHOT_PK_PREFIX = "snapshot#"
POINTER_PREFIX = "snapref#"
MAX_TAG_CHARS = 200


@dataclass(frozen=True)
class SnapshotRecord:
    """A snapshot as stored: the JSON text sealed like its session (encrypted or signed)."""

    interview: str
    session_id: str
    tag: str  # the `key` argument ("" when none was given)
    sealed: Sealed
    persistent: bool
    modified: float

    @property
    def encrypted(self) -> bool:
        return self.sealed.kind is BlobKind.ENCRYPTED


def snapshot_pk(interview: str) -> str:
    return SNAPSHOT_PK_PREFIX + interview


def snapshot_sk(session_id: str, tag: str) -> str:
    return f"{session_id}#{tag}"


def pointer_sk(interview: str, tag: str) -> str:
    """The session's pointer to its snapshot; the JSON keeps any interview name and tag apart."""
    return POINTER_PREFIX + json.dumps([interview, tag], separators=(",", ":"))


def pointer_target(session_id: str, sk: str) -> tuple[str, str]:
    """The (partition key, sort key) of the snapshot that a pointer of session `session_id` names."""
    interview, tag = json.loads(sk[len(POINTER_PREFIX):])
    return snapshot_pk(str(interview)), snapshot_sk(session_id, str(tag))


@dataclass(frozen=True)
class SnapshotPage:
    """A bounded list of snapshots and where the next page starts ("" when there is none)."""

    snapshots: list[SnapshotRecord]
    next_token: str = ""

"""`store_variables_snapshot`: the turn's JSON snapshot of its answers (or of any JSON-able data).

The snapshot is not written here: it joins the turn's `Evaluation.snapshots`, and the runtime
writes it with the turn's commit. A snapshot equal to the one this session stored last under
the same tag is not written again (its digest is kept among the answers), so a screen that
stores a snapshot each time it is shown still costs no write when nothing changed.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from chalicelib.engine.snapshots import (
    DIGESTS_NAME,
    MAX_SNAPSHOT_BYTES,
    MAX_SNAPSHOTS_PER_TURN,
    MAX_TAG_CHARS,
    NewSnapshot,
)
from chalicelib.library.serialize import jsonable

if TYPE_CHECKING:
    from chalicelib.engine.evaluator import Evaluation


def _tag(key: Any) -> str:
    tag = "" if key is None else str(key)
    if len(tag) > MAX_TAG_CHARS:
        raise ValueError(f"store_variables_snapshot: key is text of at most {MAX_TAG_CHARS} characters; "
                         f"found {len(tag)} characters")
    return tag


def _payload(ev: Evaluation, data: Any, include_internal: bool) -> Any:
    if data is not None:
        return jsonable(data)
    answers = {name: value for name, value in ev.answers().items()
               if name != DIGESTS_NAME and (include_internal or not name.startswith("_"))}
    if include_internal:
        answers = ev.state.into(answers)
    return jsonable(answers)


def store(ev: Evaluation, data: Any, include_internal: bool, key: Any, persistent: bool) -> None:
    tag = _tag(key)
    text = json.dumps(_payload(ev, data, bool(include_internal)), sort_keys=True, separators=(",", ":"))
    size = len(text.encode("utf-8"))
    if size > MAX_SNAPSHOT_BYTES:
        raise ValueError(f"store_variables_snapshot: a snapshot holds at most {MAX_SNAPSHOT_BYTES} bytes of JSON; "
                         f"this one has {size}. Pass data= with only the values you need to keep.")
    digest = hashlib.blake2b(f"{bool(persistent)}:{text}".encode(), digest_size=16).hexdigest()
    stored = ev.namespace.get(DIGESTS_NAME)
    digests: dict[str, str] = dict(stored) if isinstance(stored, dict) else {}
    if digests.get(tag) == digest and tag not in ev.snapshots:
        return
    if tag not in ev.snapshots and len(ev.snapshots) >= MAX_SNAPSHOTS_PER_TURN:
        raise ValueError(f"store_variables_snapshot: one turn stores at most {MAX_SNAPSHOTS_PER_TURN} snapshots "
                         "(distinct keys); store the rest in a later turn")
    digests[tag] = digest
    ev.namespace[DIGESTS_NAME] = digests
    ev.snapshots[tag] = NewSnapshot(tag, text, bool(persistent))

"""Signed action links: the MAC that lets a GET run an action.

`url_action()`, `url_ask()` and `interview_url_action()` make links that run an
action when opened. A GET must not run one that a third party made up, so each
link carries `sig`: an HMAC (the `links` server key) over the session id, the
action and its arguments. The web route runs the action only when `sig` is right
for the session the request is for.

The arguments are signed in canonical form: as the link's JSON gives them back
(non-JSON values become text), with sorted keys and no spaces, so the signature
made from the author's values matches the one checked on the decoded link.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from chalicelib.library.functions import TEMPORARY_LINK_SCOPE, decode_action
from chalicelib.runtime.errors import InvalidLinkError

LinkSigner = Callable[[str, str, Mapping[str, Any]], str]
_SIGNATURE_CHARS = 32
_MAX_TARGET_CHARS = 4000  # the interview address a temporary link leads to


def canonical_arguments(arguments: Mapping[str, Any]) -> str:
    as_sent = json.loads(json.dumps(dict(arguments), default=str))
    return json.dumps(as_sent, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def action_signature(key: bytes, session_id: str, action: str, arguments: Mapping[str, Any]) -> str:
    message = "\n".join((session_id, action, canonical_arguments(arguments))).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:_SIGNATURE_CHARS]


def signature_ok(key: bytes, session_id: str, action: str, arguments: Mapping[str, Any],
                 signature: str | None) -> bool:
    """True when `signature` is the one `action_signature` makes for this session, action and arguments."""
    if not signature:
        return False
    expected = action_signature(key, session_id, action, arguments)
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", errors="replace"))


def signer(key: bytes) -> LinkSigner:
    """What the evaluation's Request carries as `sign_link`: (session id, action, arguments) → signature."""
    return partial(action_signature, key)


def read_link(key: bytes, session_id: str | None, blob: str, signature: str | None) -> tuple[str, dict[str, Any]]:
    """The action and arguments of a link's `action=` value, if the link was made for the session
    `session_id` (None: the request is for no session); InvalidLinkError otherwise."""
    try:
        action, arguments = decode_action(blob)
    except ValueError as err:
        raise InvalidLinkError(str(err), "That link is not valid") from err
    if session_id is None or not signature_ok(key, session_id, action, arguments, signature):
        raise InvalidLinkError("This link was made for another session, or it was changed, so it was not "
                               "followed and nothing was done. Go back to the interview and use its own links.",
                               "This link is not valid for this session")
    return action, arguments


def temporary_target(key: bytes, target: str, expires: str, signature: str | None, now: float) -> str:
    """The interview address a temporary link (`interview_url(temporary=…)`, `/goto?u=&e=&sig=`) leads
    to, if this server signed it and it has not expired; InvalidLinkError otherwise."""
    if not target.startswith("/interview?") or len(target) > _MAX_TARGET_CHARS or not expires.isdigit() \
            or len(expires) > 12 or not signature_ok(key, TEMPORARY_LINK_SCOPE, target, {"e": int(expires)},
                                                     signature):
        raise InvalidLinkError("This link was changed or cut short; ask for the link again.", "This link is not valid")
    if int(expires) < now:
        raise InvalidLinkError("Ask whoever gave it to you for a new one.", "This link has expired")
    return target

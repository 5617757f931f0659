"""docassemble's functions for moving data between sessions, bound to one evaluation.

`create_session`, `set_session_variables`, `get_session_variables` and
`run_action_in_session` reach other sessions through the Request's `sessions`
port (the runtime's push_pull): a read happens at once; a change is made after the
calling turn is saved, once, as a turn on the other session. Arguments are
checked here, before anything is asked of the port, with messages that say what
was expected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chalicelib.engine.request import SessionsPort

if TYPE_CHECKING:
    from chalicelib.engine.evaluator import Evaluation

MAX_NAME_LENGTH = 300  # an interview file name or an action name


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME_LENGTH:
        raise ValueError(f"{what} must be non-empty text of at most {MAX_NAME_LENGTH} characters, found "
                         f"{type(value).__name__} {str(value)[:40]!r}")
    return value


def _secret(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"secret must be text or None, found {type(value).__name__}")
    return value


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ValueError(f"{what} must be a dict keyed by names, found {type(value).__name__}")
    return value


def _names(value: Any) -> list[str]:
    """`delete=`: a name or a list of names."""
    if value is None:
        return []
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"delete must be a variable name or a list of names, found {type(value).__name__}")
    return list(names)


class OtherSessionFunctions:
    """The functions, bound to one evaluation (see the module docstring)."""

    def __init__(self, ev: Evaluation) -> None:
        self.ev = ev

    def _port(self) -> SessionsPort:
        if self.ev.request.sessions is None:
            raise RuntimeError("other sessions are not available here (no session store was given to this "
                               "evaluation)")
        return self.ev.request.sessions

    def create_session(self, yaml_filename: str, secret: str | None = None, url_args: Any = None) -> str:
        """A new session of `yaml_filename`, encrypted with `secret` (None: this session's own); its id.

        The session is made when this turn is saved; changes to it asked for in this turn follow.
        """
        return self._port().create(_text(yaml_filename, "yaml_filename"), _secret(secret),
                                   _mapping(url_args, "url_args"))

    def set_session_variables(self, yaml_filename: str, session_id: str, variables: Any, secret: str | None = None,
                              question_name: str | None = None, overwrite: bool = False,
                              process_objects: bool = False, delete: Any = None) -> None:
        """Set `variables` (and delete `delete`) in another session, after this turn is saved, once."""
        self._port().set(_text(yaml_filename, "yaml_filename"), _text(session_id, "session_id"),
                         _mapping(variables, "variables"), _secret(secret),
                         None if question_name is None else _text(question_name, "question_name"),
                         bool(overwrite), _names(delete), bool(process_objects))

    def get_session_variables(self, yaml_filename: str, session_id: str, secret: str | None = None,
                              simplify: bool = True) -> Any:
        """The variables of another session as saved (JSON-safe unless simplify=False)."""
        return self._port().get(_text(yaml_filename, "yaml_filename"), _text(session_id, "session_id"),
                                _secret(secret), bool(simplify))

    def run_action_in_session(self, yaml_filename: str, session_id: str, action: str, arguments: Any = None,
                              secret: str | None = None, persistent: bool = False, overwrite: bool = False) -> None:
        """Run `action` with `arguments` in another session, after this turn is saved, once."""
        self._port().run_action(_text(yaml_filename, "yaml_filename"), _text(session_id, "session_id"),
                                _text(action, "action"), _mapping(arguments, "arguments"), _secret(secret),
                                bool(persistent), bool(overwrite))

    def bound(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in NAMES}


NAMES = ("create_session", "set_session_variables", "get_session_variables", "run_action_in_session")

"""Set and read variables by name without executing anything the user sent.

A variable name from a form or the API (`user.name.first`, `fishes['blue']`)
is parsed with `ast` and only names, attributes and constant subscripts are
accepted; the assignment is then done with setattr/setitem. Nothing is passed
to exec or eval, so a posted name can never run code.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, MutableMapping
from functools import lru_cache
from typing import Any

from chalicelib.engine.errors import BadVariableNameError
from chalicelib.language.missing import MissingVariable

_Step = tuple[str, Any]  # ("name"|"attr"|"item", key)
MAX_NAME_CHARS = 1000  # a longer name is refused before it is parsed or cached


def parse_target(name: str) -> tuple[_Step, ...]:
    """`a.b['c'][0]` → (("name","a"), ("attr","b"), ("item","c"), ("item",0))."""
    if len(name) > MAX_NAME_CHARS:
        raise BadVariableNameError(f"a variable name of {len(name):,} characters is too long; names of at most "
                                   f"{MAX_NAME_CHARS} characters are accepted")
    return _parse_target(name)


@lru_cache(maxsize=4096)
def _parse_target(name: str) -> tuple[_Step, ...]:
    try:
        node = ast.parse(name.strip(), mode="eval").body
    except SyntaxError as err:
        raise BadVariableNameError(f"{name!r} is not a variable name") from err
    steps: list[_Step] = []
    while True:
        if isinstance(node, ast.Name):
            steps.append(("name", node.id))
            break
        if isinstance(node, ast.Attribute):
            steps.append(("attr", node.attr))
            node = node.value
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) \
                and isinstance(node.slice.value, (str, int, float, bool)):
            steps.append(("item", node.slice.value))
            node = node.value
        else:
            raise BadVariableNameError(
                f"{name!r} is not a plain variable name: expected names, attributes and constant indexes "
                "such as user.name.first or fishes['blue']"
            )
    steps.reverse()
    if steps[0][1].startswith("__") or any(kind == "attr" and key.startswith("_") for kind, key in steps[1:]):
        raise BadVariableNameError(f"{name!r} names a private attribute; that cannot be set")
    return tuple(steps)


def _step_into(obj: Any, step: _Step) -> Any:
    kind, key = step
    return getattr(obj, key) if kind == "attr" else obj[key]


def assign(namespace: MutableMapping[str, Any], name: str, value: Any) -> None:
    """namespace ⟵ `name = value`, creating nothing but the last link."""
    steps = parse_target(name)
    if len(steps) == 1:
        namespace[steps[0][1]] = value
        return
    if steps[0][1] not in namespace:
        raise MissingVariable(steps[0][1])
    target = namespace[steps[0][1]]
    for step in steps[1:-1]:
        target = _step_into(target, step)
    kind, key = steps[-1]
    if kind == "attr":
        setattr(target, key, value)
    else:
        target[key] = value


def delete(namespace: MutableMapping[str, Any], name: str) -> None:
    """Undefine a variable; no error if it is not defined."""
    steps = parse_target(name)
    try:
        if len(steps) == 1:
            namespace.pop(steps[0][1], None)
            return
        target = namespace[steps[0][1]]
        for step in steps[1:-1]:
            target = _step_into(target, step)
        kind, key = steps[-1]
        if kind == "attr":
            if hasattr(target, "__dict__") and key in vars(target):
                delattr(target, key)
        else:
            del target[key]
    except (KeyError, IndexError, AttributeError, TypeError, MissingVariable):
        return


def lookup(namespace: Mapping[str, Any], name: str) -> Any:
    """The value of a variable, raising MissingVariable(name) when it is undefined."""
    steps = parse_target(name)
    if steps[0][1] not in namespace:
        raise MissingVariable(steps[0][1])
    value = namespace[steps[0][1]]
    for step in steps[1:]:
        try:
            value = _step_into(value, step)
        except (KeyError, IndexError, AttributeError) as err:
            raise MissingVariable(name) from err
    return value


def is_defined(namespace: Mapping[str, Any], name: str) -> bool:
    try:
        lookup(namespace, name)
    except (MissingVariable, BadVariableNameError, TypeError):
        return False
    return True


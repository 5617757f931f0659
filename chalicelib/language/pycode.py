"""Python inside interviews: compiling code and expressions, finding what they define.

Code is compiled with the interview's file name and real line numbers, so a
traceback from author code points at the YAML file.
"""

from __future__ import annotations

import ast
from types import CodeType
from typing import Any

from chalicelib.language.errors import InterviewSyntaxError


def compile_code(source: str, file: str, line: int, block: int, mode: str = "exec") -> CodeType:
    """Compile author code; `line` is the file line of the code's first line."""
    try:
        tree: Any = ast.parse(source, filename=file, mode=mode)
    except SyntaxError as err:
        raise InterviewSyntaxError(
            f"this Python code has a syntax error: {err.msg}",
            file=file, line=line + (err.lineno or 1) - 1, block=block,
            hint="Fix the code; remember that YAML '|' keeps the code's indentation.",
        ) from err
    ast.increment_lineno(tree, line - 1)
    code: CodeType = compile(tree, file, mode, dont_inherit=True)
    return code


def assigned_names(source: str) -> tuple[str, ...]:
    """The variables a code block defines: every assignment target we can name.

    `a = 1` → "a"; `user.name.first = x` → "user.name.first";
    `fishes['blue'] = 2` → "fishes['blue']". Targets inside function bodies
    are local to the function and are not counted.
    """
    tree = ast.parse(source)
    found: list[str] = []
    for node in _walk_outside_functions(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            targets = [node.target]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            found.extend((alias.asname or alias.name).split(".")[0] for alias in node.names
                         if alias.name != "*")
        for target in targets:
            for name in _target_names(target):
                if name not in found:
                    found.append(name)
    return tuple(found)


def _walk_outside_functions(tree: ast.AST) -> list[ast.AST]:
    """Every node in source order, not descending into function or class bodies."""
    out: list[ast.AST] = [tree]
    for node in out:  # grows while we walk: a breadth-first pass
        out.extend(child for child in ast.iter_child_nodes(node)
                   if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)))
    return sorted(out[1:], key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))


def _target_names(target: ast.expr) -> list[str]:
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for element in target.elts for n in _target_names(element)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    name = expression_name(target)
    return [name] if name else []


def expression_name(node: ast.expr) -> str | None:
    """The canonical text of a name, attribute chain or constant-index subscript."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = expression_name(node.value)
        return f"{base}.{node.attr}" if base else None
    if isinstance(node, ast.Subscript):
        base = expression_name(node.value)
        index = node.slice
        if base is None:
            return None
        if isinstance(index, ast.Constant) and isinstance(index.value, (str, int)):
            return f"{base}[{index.value!r}]"
        if isinstance(index, ast.Name):  # generic index such as people[i]
            return f"{base}[{index.id}]"
    return None


def canonical(name: str) -> str:
    """Normalise a variable name's spelling: `fishes["blue"]` → `fishes['blue']`."""
    try:
        node = ast.parse(name.strip(), mode="eval").body
    except SyntaxError:
        return name.strip()
    return expression_name(node) or name.strip()


def calls_function(source: str, function: str) -> bool:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return any(isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == function
               for node in ast.walk(tree))

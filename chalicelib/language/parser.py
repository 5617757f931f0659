"""YAML documents → an `Interview` of typed blocks.

`_KIND_KEYS` decides a block's kind from its keys, `_ALLOWED` (with the
modifiers in `_COMMON`) lists the keys each kind accepts, and `_PARSERS` maps
each kind to its `_BlockParser.parse_<kind>` method (features and comment blocks
share `parse_nothing`); a new kind is a new method there, not a longer if-chain.
Question blocks are parsed by `questions.QuestionParser`. Every problem is an
InterviewSyntaxError naming the file, line and block.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from typing import Any

from chalicelib.language.blocks import Block, Expr, Interview, Kind, Template
from chalicelib.language.errors import InterviewSyntaxError
from chalicelib.language.markup import Text
from chalicelib.language.pycode import assigned_names, calls_function, canonical, compile_code
from chalicelib.language.questions import QuestionParser, parse_attachment
from chalicelib.language.source import RawBlock, read_blocks

# Which key makes a block of which kind, in order of precedence.
_KIND_KEYS: tuple[tuple[str, Kind], ...] = (
    ("metadata", Kind.METADATA), ("question", Kind.QUESTION), ("template", Kind.TEMPLATE),
    ("objects", Kind.OBJECTS), ("imports", Kind.IMPORTS), ("modules", Kind.MODULES),
    ("default screen parts", Kind.SCREEN_PARTS), ("code", Kind.CODE), ("attachment", Kind.ATTACHMENT),
    ("attachments", Kind.ATTACHMENT), ("features", Kind.FEATURES), ("comment", Kind.COMMENT),
)

# Modifiers any block may carry.
_COMMON = {"mandatory", "initial", "id", "comment", "need", "reconsider", "if", "depends on", "scan for variables",
           "only sets", "sets", "event", "generic object", "language", "role", "undefine", "source code"}
_ALLOWED: dict[Kind, set[str]] = {
    Kind.METADATA: {"metadata"},
    Kind.CODE: {"code", "default role"},
    Kind.TEMPLATE: {"template", "content", "subject", "target", "content file", "subject file"},
    Kind.ATTACHMENT: {"attachment", "attachments"},
    Kind.OBJECTS: {"objects"},
    Kind.IMPORTS: {"imports"},
    Kind.MODULES: {"modules"},
    Kind.SCREEN_PARTS: {"default screen parts"},
    Kind.FEATURES: {"features"},
    Kind.COMMENT: set(),
    Kind.QUESTION: {
        "question", "subquestion", "under", "right", "help", "fields", "field", "buttons", "choices",
        "dropdown", "combobox", "yesno", "noyes", "yesnomaybe", "noyesmaybe", "continue button field",
        "continue button label", "resume button label", "reload", "check in", "prevent going back",
        "attachment", "attachments", "attachment code", "attachments code", "decoration", "css", "script",
        "progress", "section", "audio", "video", "terms", "auto terms", "action buttons", "back button",
        "back button label", "pre", "post", "breadcrumb", "validation code", "allow emailing",
        "allow downloading", "signature", "review", "under text", "css class", "table css class",
        "hide continue button", "disable continue button", "question metadata", "tabular",
    },
}
_SPLIT_WORD = re.compile(r"[\[\].]")


def parse_interview(text: str, name: str) -> Interview:
    """Parse the text of one interview file (`name` is used in messages and ids)."""
    blocks = tuple(_BlockParser(raw, name).parse() for raw in read_blocks(text, name))
    return _assemble(name, blocks)


class _BlockParser:
    def __init__(self, raw: RawBlock, file: str) -> None:
        self.raw = raw
        self.data = raw.data
        self.file = file

    def fail(self, message: str, found: str = "") -> InterviewSyntaxError:
        hint = f"Found: {found}." if found else ""
        return InterviewSyntaxError(message, file=self.file, line=self.raw.line, block=self.raw.number,
                                    hint=hint)

    def key_line(self, key: str) -> int:
        """The file line of `key:` in this block (for code line numbers)."""
        for offset, line in enumerate(self.raw.text.splitlines()):
            if line.startswith(f"{key}:"):
                after = line[len(key) + 1:].strip()
                base = self.raw.line - _leading_blank_lines(self.raw.text) + offset
                return base if after and not after.startswith(("|", ">")) else base + 1
        return self.raw.line

    def expr(self, source: Any) -> Expr:
        text = source if isinstance(source, str) else repr(source)
        return Expr(text, compile_code(text.strip(), self.file, self.raw.line, self.raw.number, mode="eval"))

    def kind(self) -> Kind:
        for key, kind in _KIND_KEYS:
            if key in self.data:
                return kind
        keys = ", ".join(map(str, self.data))
        raise self.fail(
            "this block has no directive that says what it is",
            f"keys {keys}; expected one of question, code, template, objects, attachment, metadata, "
            "imports, modules, default screen parts",
        )

    def parse(self) -> Block:
        kind = self.kind()
        unknown = [k for k in self.data if k not in _ALLOWED[kind] and k not in _COMMON]
        if unknown:
            close = difflib.get_close_matches(str(unknown[0]), sorted(_ALLOWED[kind] | _COMMON), n=1)
            suggestion = f"; did you mean {close[0]!r}?" if close else "; check its spelling"
            raise self.fail(f"unknown directive {unknown[0]!r} in a {kind.value} block{suggestion}",
                            f"keys {', '.join(map(str, self.data))}")
        fields: dict[str, Any] = _PARSERS[kind](self)
        default_role = self._roles("default role")
        return Block(
            number=self.raw.number, line=self.raw.line, file=self.file, kind=kind,
            name=str(self.data["id"]) if "id" in self.data else f"{self.file}:{self.raw.number}",
            mandatory=self._flag("mandatory"),
            initial=True if default_role else self._flag("initial"),  # a default role's code runs as initial code
            need=tuple(self.expr(n) for n in _as_list(self.data.get("need"))),
            roles=self._roles("role"), default_role=default_role,
            **fields,
        )

    def _roles(self, key: str) -> tuple[str, ...]:
        """A `role` or `default role`: one name or a list of names."""
        names = _as_list(self.data.get(key))
        if not all(isinstance(n, str) and n.strip() for n in names):
            raise self.fail(f"{key!r} should be a role name or a list of role names", repr(self.data.get(key)))
        return tuple(n.strip() for n in names)

    def _flag(self, key: str) -> bool | Expr:
        value = self.data.get(key, False)
        if isinstance(value, bool):
            return value
        if value is None:
            return False
        return self.expr(value)

    def _events(self) -> tuple[str, ...]:
        names = [canonical(str(n)) for n in _as_list(self.data.get("event"))]
        return tuple(names)

    def _sets(self) -> list[str]:
        return [canonical(str(n)) for key in ("sets", "only sets") for n in _as_list(self.data.get(key))]

    def _defines(self, own: list[str]) -> dict[str, Any]:
        events = self._events()
        if "only sets" in self.data:
            own = []
        names = list(dict.fromkeys([*own, *self._sets(), *events]))
        generic = tuple(_pattern(n) for n in names if _is_generic(n))
        return {"defines": tuple(names), "patterns": generic, "is_event": bool(events)}

    def _reconsider(self, defines: tuple[str, ...]) -> tuple[str, ...]:
        value = self.data.get("reconsider")
        if value is True:
            return defines
        return tuple(canonical(str(v)) for v in _as_list(value) if v not in (False, None))

    # --- one parser per kind -------------------------------------------------------------
    def parse_metadata(self) -> dict[str, Any]:
        meta = self.data["metadata"]
        if not isinstance(meta, Mapping):
            raise self.fail("'metadata' must be a mapping such as 'title: My interview'", repr(meta))
        return {"metadata": dict(meta)}

    def parse_code(self) -> dict[str, Any]:
        source = self.data["code"]
        if not isinstance(source, str):
            raise self.fail("'code' must be Python code as text (use 'code: |')", repr(source))
        code = compile_code(source, self.file, self.key_line("code"), self.raw.number)
        # An `event:` code block answers its event only; what it assigns along the way is not
        # something other blocks may seek from it (docassemble's rule).
        own = [] if "event" in self.data else list(assigned_names(source))
        defined = self._defines(own)
        return {**defined, "code": code, "code_source": source,
                "reconsider": self._reconsider(defined["defines"]),
                "calls_process_action": calls_function(source, "process_action")}

    def parse_question(self) -> dict[str, Any]:
        question = QuestionParser(self.data, self.file, self.raw.line, self.raw.number, self.fail).parse()
        own = [f.variable for f in question.fields if f.variable]
        own += [v for v in (question.field_variable, question.continue_field) if v]
        own += [a.variable_name for a in question.attachments if a.variable_name]
        defined = self._defines(own)
        return {**defined, "question": question, "reconsider": self._reconsider(())}

    def parse_template(self) -> dict[str, Any]:
        name = canonical(str(self.data["template"]))
        if "content" not in self.data:
            raise self.fail(f"template {name!r} needs a 'content' directive")
        line = self.key_line("content")
        template = Template(
            name=name, content=Text(self.data["content"], self.file, line),
            subject=Text(self.data["subject"], self.file, line) if "subject" in self.data else None,
            target=str(self.data["target"]) if "target" in self.data else None,
        )
        return {**self._defines([name]), "template": template}

    def parse_attachment(self) -> dict[str, Any]:
        raw = self.data.get("attachment", self.data.get("attachments"))
        attachment = parse_attachment(raw, self.file, self.raw.line, self.fail)
        own = [attachment.variable_name] if attachment.variable_name else []
        return {**self._defines(own), "attachment": attachment}

    def parse_objects(self) -> dict[str, Any]:
        raw = self.data["objects"]
        items = [{k: v} for k, v in raw.items()] if isinstance(raw, Mapping) else raw
        pairs: list[tuple[str, Expr]] = []
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, Mapping) or len(item) != 1:
                raise self.fail("each item of 'objects' must be 'name: ClassName'", repr(item))
            (name, cls), = item.items()
            pairs.append((canonical(str(name)), self.expr(str(cls))))
        if not pairs:
            raise self.fail("'objects' must be a list of 'name: ClassName' items", repr(raw))
        return {**self._defines([n for n, _ in pairs]), "objects": tuple(pairs)}

    def parse_imports(self) -> dict[str, Any]:
        return {"imports": tuple(str(m) for m in _as_list(self.data["imports"]))}

    def parse_modules(self) -> dict[str, Any]:
        return {"imports": tuple(f"*{m}" for m in _as_list(self.data["modules"]))}

    def parse_screen_parts(self) -> dict[str, Any]:
        raw = self.data["default screen parts"]
        if not isinstance(raw, Mapping):
            raise self.fail("'default screen parts' must be a mapping such as 'under: ...'", repr(raw))
        return {"screen_parts": {str(k): Text(v, self.file, self.raw.line) for k, v in raw.items()}}

    def parse_nothing(self) -> dict[str, Any]:
        return {}


_PARSERS: dict[Kind, Callable[[_BlockParser], dict[str, Any]]] = {
    Kind.METADATA: _BlockParser.parse_metadata, Kind.CODE: _BlockParser.parse_code,
    Kind.QUESTION: _BlockParser.parse_question, Kind.TEMPLATE: _BlockParser.parse_template,
    Kind.ATTACHMENT: _BlockParser.parse_attachment, Kind.OBJECTS: _BlockParser.parse_objects,
    Kind.IMPORTS: _BlockParser.parse_imports, Kind.MODULES: _BlockParser.parse_modules,
    Kind.SCREEN_PARTS: _BlockParser.parse_screen_parts, Kind.FEATURES: _BlockParser.parse_nothing,
    Kind.COMMENT: _BlockParser.parse_nothing,
}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _leading_blank_lines(text: str) -> int:
    count = 0
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            break
        count += 1
    return count


_GENERIC_INDEX = re.compile(r"\[([ijklmn])\]")


def _is_generic(name: str) -> bool:
    return bool(_GENERIC_INDEX.search(name))


def _pattern(name: str) -> re.Pattern[str]:
    """`people[i].name.first` → a regex matching `people[0].name.first` (i captured)."""
    parts = _GENERIC_INDEX.split(name)
    regex = ""
    for position, part in enumerate(parts):
        regex += f"\\[(?P<{part}>[^\\]]+)\\]" if position % 2 else re.escape(part)
    return re.compile(regex + r"\Z")


def _assemble(name: str, blocks: tuple[Block, ...]) -> Interview:
    metadata: dict[str, Any] = {}
    parts: dict[str, Text] = {}
    definers: dict[str, list[Block]] = {}
    for block in blocks:
        metadata.update(block.metadata)
        parts.update(block.screen_parts)
        for defined in block.defines:
            if not _is_generic(defined):
                definers.setdefault(defined, []).insert(0, block)
    return Interview(
        name=name, blocks=blocks, metadata=metadata, screen_parts=parts,
        default_role=next((b.default_role for b in blocks if b.default_role), ()),
        explicit_process_action=any(b.calls_process_action for b in blocks),
        definers={k: tuple(v) for k, v in definers.items()},
        generic_definers=tuple(b for b in reversed(blocks) if b.patterns),
        ordered=tuple(b for b in blocks if b.mandatory is not False or b.initial is not False),
        setup=tuple(b for b in blocks if b.kind in (Kind.IMPORTS, Kind.MODULES)),
    )

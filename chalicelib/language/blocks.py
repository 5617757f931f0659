"""Typed blocks: what the parser makes of each YAML document.

Frozen dataclasses only; the evaluator (chalicelib.engine) reads them, never
the raw YAML. A `Block` has one `kind` and the parts that kind uses.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from types import CodeType
from typing import Any

from chalicelib.language.markup import Text


class Kind(enum.Enum):
    METADATA = "metadata"
    CODE = "code"
    QUESTION = "question"
    TEMPLATE = "template"
    ATTACHMENT = "attachment"
    OBJECTS = "objects"
    IMPORTS = "imports"
    MODULES = "modules"
    SCREEN_PARTS = "default screen parts"
    COMMENT = "comment"
    FEATURES = "features"


class Screen(enum.Enum):
    """How a question asks for its answer."""

    FIELDS = "fields"  # a form of fields (and `continue button field`)
    YESNO = "yesno"
    NOYES = "noyes"
    YESNOMAYBE = "yesnomaybe"
    NOYESMAYBE = "noyesmaybe"
    BUTTONS = "buttons"  # `field:` + buttons/choices, or command buttons
    CONTINUE = "continue"  # `field:` alone: Continue sets it True
    DEADEND = "deadend"  # no way forward (event screens, final screens)


class Datatype(enum.StrEnum):
    """A field's `datatype` (or `input type`): every one the parser accepts.

    Fields and rendered screens hold the plain string (`Field.datatype` is a `str`): a
    rendered screen is pickled with the answers, and a pickle then never names this class.
    """

    TEXT = "text"
    AREA = "area"
    INTEGER = "integer"
    NUMBER = "number"
    CURRENCY = "currency"
    FLOAT = "float"
    EMAIL = "email"
    DATE = "date"
    TIME = "time"
    DATETIME = "datetime"
    YESNO = "yesno"
    NOYES = "noyes"
    YESNORADIO = "yesnoradio"
    NOYESRADIO = "noyesradio"
    YESNOWIDE = "yesnowide"
    NOYESWIDE = "noyeswide"
    RADIO = "radio"
    DROPDOWN = "dropdown"
    CHECKBOXES = "checkboxes"
    COMBOBOX = "combobox"
    HIDDEN = "hidden"
    FILE = "file"
    FILES = "files"
    PASSWORD = "password"
    RANGE = "range"
    URL = "url"
    ML = "ml"
    MLAREA = "mlarea"
    OBJECT = "object"
    OBJECT_RADIO = "object_radio"
    OBJECT_CHECKBOXES = "object_checkboxes"
    MULTISELECT = "multiselect"
    CAMERA = "camera"
    USER = "user"
    ENVIRONMENT = "environment"
    RAW = "raw"
    SIGNATURE = "signature"


DATATYPES = frozenset(Datatype)
# A single checkbox: checked is yes (unchecked, no); the noyes kinds store the opposite.
YESNO_CHECKBOXES = frozenset({Datatype.YESNO, Datatype.NOYES, Datatype.YESNOWIDE, Datatype.NOYESWIDE})
# Yes and No as two radio buttons (with a third, "I don't know", when not required).
YESNO_RADIOS = frozenset({Datatype.YESNORADIO, Datatype.NOYESRADIO})
# The kinds whose stored value is the opposite of the box or button marked "yes".
NEGATED = frozenset({Datatype.NOYES, Datatype.NOYESWIDE, Datatype.NOYESRADIO})
# One of the field's choices: radio buttons, a select, or a text box with suggestions.
SINGLE_CHOICE = frozenset({Datatype.RADIO, Datatype.DROPDOWN, Datatype.COMBOBOX, Datatype.OBJECT_RADIO})
NUMERIC = frozenset({Datatype.INTEGER, Datatype.NUMBER, Datatype.CURRENCY, Datatype.FLOAT, Datatype.RANGE})
MULTILINE = frozenset({Datatype.AREA, Datatype.MLAREA})
# Taken as typed: leading and trailing spaces are part of the value.
UNSTRIPPED = frozenset({Datatype.AREA, Datatype.PASSWORD, Datatype.RAW})
# Unanswered means no (or none chosen), so these are optional unless `required` says otherwise.
# Any number of the choices: checkboxes and multiselect give {value: checked}, object_checkboxes
# the list of the chosen values.
MULTIPLE_CHOICE = frozenset({Datatype.CHECKBOXES, Datatype.OBJECT_CHECKBOXES, Datatype.MULTISELECT})
NOT_REQUIRED_BY_DEFAULT = YESNO_CHECKBOXES | MULTIPLE_CHOICE


class DocumentFormat(enum.StrEnum):
    """A file an attachment can be made into, named by its extension; CONTENT_TYPES gives its MIME type.

    Documents in the answers hold the plain strings (see DEFAULT_FORMATS)."""

    PDF = "pdf"
    DOCX = "docx"


CONTENT_TYPES: dict[str, str] = {
    DocumentFormat.PDF: "application/pdf",
    DocumentFormat.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
# An attachment without `valid formats` is made in these (plain strings: they are stored).
DEFAULT_FORMATS: tuple[str, ...] = (DocumentFormat.PDF.value, DocumentFormat.DOCX.value)


@dataclass(frozen=True)
class Expr:
    """A Python expression from the interview, compiled once."""

    source: str
    code: CodeType


@dataclass(frozen=True)
class Choice:
    label: Text
    value: Any
    help: Text | None = None
    default: bool = False


@dataclass(frozen=True)
class Choices:
    """Static choices, or an expression that yields them at run time."""

    static: tuple[Choice, ...] = ()
    code: Expr | None = None


@dataclass(frozen=True)
class Field:
    label: Text | None
    variable: str | None
    datatype: str = Datatype.TEXT.value
    input_type: str | None = None
    choices: Choices | None = None
    required: bool | Expr = True
    default: Any = None
    hint: Text | None = None
    help: Text | None = None
    minimum: Any = None
    maximum: Any = None
    minlength: int | None = None
    maxlength: int | None = None
    note: Text | None = None
    html: Text | None = None
    show_if: Any = None
    js_show_if: str | None = None
    js_hide_if: str | None = None
    js_enable_if: str | None = None
    js_disable_if: str | None = None
    extras: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Button:
    label: Text
    value: Any
    is_command: bool = False  # a button with no `field`: its value is a command


@dataclass(frozen=True)
class Question:
    text: Text
    screen: Screen
    subquestion: Text | None = None
    under: Text | None = None
    right: Text | None = None
    help: Text | None = None
    fields: tuple[Field, ...] = ()
    field_variable: str | None = None
    buttons: tuple[Button, ...] = ()
    continue_label: Text | None = None
    continue_field: str | None = None
    reload: Any = None
    check_in: str | None = None
    prevent_back: bool = False
    attachments: tuple[Attachment, ...] = ()
    attachment_code: Expr | None = None
    id: str | None = None


@dataclass(frozen=True)
class Template:
    name: str
    content: Text
    subject: Text | None = None
    target: str | None = None


@dataclass(frozen=True)
class Attachment:
    name: Text
    filename: Text
    content: Text | None
    variable_name: str | None = None
    description: Text | None = None
    valid_formats: tuple[str, ...] = DEFAULT_FORMATS


@dataclass(frozen=True)
class Block:
    """One interview block. `defines` lists what seeking a name can find here."""

    number: int
    line: int
    file: str
    kind: Kind
    name: str  # stable id: the `id` directive, else "<file>:<number>"
    defines: tuple[str, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()  # for generic names such as people[i].name
    is_event: bool = False
    mandatory: bool | Expr = False
    initial: bool | Expr = False
    need: tuple[Expr, ...] = ()
    reconsider: tuple[str, ...] = ()
    code: CodeType | None = None
    code_source: str = ""
    question: Question | None = None
    template: Template | None = None
    attachment: Attachment | None = None
    objects: tuple[tuple[str, Expr], ...] = ()  # name → class expression, e.g. DAList.using(...)
    imports: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    screen_parts: dict[str, Text] = field(default_factory=dict)
    calls_process_action: bool = False
    roles: tuple[str, ...] = ()  # `role:` who may answer this question (none: the interview's default role)
    default_role: tuple[str, ...] = ()  # `default role:` of a code block

    @property
    def where(self) -> str:
        return f"{self.file}, line {self.line}, block {self.number}"


@dataclass(frozen=True)
class Interview:
    """A parsed interview file."""

    name: str
    blocks: tuple[Block, ...]
    metadata: dict[str, Any]
    screen_parts: dict[str, Text]
    explicit_process_action: bool
    definers: dict[str, tuple[Block, ...]]  # name → blocks, latest first
    generic_definers: tuple[Block, ...]  # blocks with generic patterns, latest first
    ordered: tuple[Block, ...]  # initial and mandatory blocks, in file order
    setup: tuple[Block, ...]  # imports and modules blocks, run first on every turn
    default_role: tuple[str, ...] = ()  # who answers the questions without `role:` (none: anyone)

    @property
    def title(self) -> str:
        return str(self.metadata.get("title", "") or "")

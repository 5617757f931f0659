"""The objects interview authors use: DAObject, lists, dicts, sets, names and people.

Undefined attributes. Reading an attribute that an object does not have raises
`MissingVariable` with the attribute's full Python name (``user.name.first``,
``people[0]``, ``assets['house'].value``); the engine catches it and seeks that
variable. Names that start with ``_`` raise a plain AttributeError instead, so
pickle, copy and other protocol probes (``__getstate__``, ``__deepcopy__``) work.
Defined attributes are plain instance attributes: reading them never runs our code.

``hasattr`` and ``getattr(obj, name, default)`` only swallow AttributeError, and
`MissingVariable` is not one, so ``hasattr(user, 'email')`` on a missing attribute
*propagates* `MissingVariable` (the engine then asks for ``user.email``). To test
without asking, use ``user.attribute_defined('email')`` or
``user.defined('name.first')``; neither runs any gathering.

Gathering. A `DAList`, `DADict` or `DASet` with ``auto_gather`` (the default)
gathers itself the first time it is counted, iterated, searched or printed:
it reads ``there_are_any``, then its items one by one, each followed by
``there_is_another``. Each of those reads raises `MissingVariable` until the
engine has an answer, so the questions come one per turn, and every turn reruns
``gather()`` from the top, skipping what is already known.

When a gather stops on a missing name, the container remembers that name until
the end of the evaluation. Uses of the container that would stop on the *same*
name again (the question being shown for it says "you have told me about
${ people.number() } people: ${ people }") get what is there so far instead:
the count of the items, and, in text, only the complete ones. Any other
outcome (the name got defined, or gathering now needs something else) behaves
normally. The mark is dropped when the object is pickled or copied, so each
turn starts afresh.

Objects hold only plain data (and classes, for ``object_type``): they pickle and
deep-copy with the standard library, and never reach modules or request state.
"""

from __future__ import annotations

import importlib
import secrets
from collections.abc import Callable, ItemsView, Iterable, Iterator, KeysView, ValuesView
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

from chalicelib.engine.signals import MissingVariable

__all__ = [
    "DADict",
    "DAList",
    "DAObject",
    "DASet",
    "Individual",
    "IndividualName",
    "Name",
    "Person",
    "Thing",
]

# Attributes that describe one evaluation in progress, never saved or copied.
_TRANSIENT_ATTRIBUTES = frozenset({"_gathering_now", "_in_gather"})


class DAObject:
    """The base of every interview object; its undefined attributes become questions.

    The object knows the Python name it lives at (``instanceName``), so reading
    an attribute it does not have yet raises `MissingVariable` with the full
    name, which the engine turns into the question that defines it.

    Example::

        objects:
          - case: DAObject
        ---
        question: What is the case about?
        fields:
          - Summary: case.summary     # `case.summary` is sought, then defined
    """

    instanceName: str
    has_nonrandom_instance_name: bool

    if TYPE_CHECKING:  # attributes are open-ended, as in docassemble; no runtime hook

        def __setattr__(self, name: str, value: Any) -> None: ...

    def __init__(self, instanceName: str | None = None, **kwargs: Any) -> None:
        if instanceName is None:
            # docassemble also invents a name for objects made without one.
            self.instanceName = f"_unnamed_{secrets.token_hex(6)}"
            self.has_nonrandom_instance_name = False
        else:
            self.instanceName = instanceName
            self.has_nonrandom_instance_name = True
        self.init(**kwargs)

    def init(self, **kwargs: Any) -> None:
        """Set each keyword argument as an attribute.

        Subclasses (including authors' own, as in docassemble) override this,
        set their defaults, then call ``super().init(**kwargs)``.
        """
        for key, value in kwargs.items():
            setattr(self, key, value)

    @classmethod
    def using(cls, **params: Any) -> DAObjectFactory:
        """A recipe that builds this class with ``params``: ``DAList.using(object_type=Individual)``."""
        return DAObjectFactory(cls, params)

    def __getattr__(self, attr: str) -> Any:
        # Only called for attributes that do not exist.
        if attr.startswith("_"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {attr!r}")
        name = self.__dict__.get("instanceName")
        if name is None:  # half-built (e.g. during unpickling): behave like a plain object
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {attr!r}")
        raise MissingVariable(f"{name}.{attr}")

    def __getstate__(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if key not in _TRANSIENT_ATTRIBUTES}

    def __str__(self) -> str:
        return self.instanceName

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.__dict__.get('instanceName')!r})"

    def attr_name(self, name: str) -> str:
        """The full Python name of attribute ``name`` (``user.attr_name('email') == 'user.email'``)."""
        return f"{self.instanceName}.{name}"

    def object_name(self) -> str:
        """A plain-words version of the variable name: ``user.home_address`` → ``user's home address``."""
        return "'s ".join(part.replace("_", " ") for part in self.instanceName.split("."))

    def initializeAttribute(self, name: str, cls: ObjectMaker, **kwargs: Any) -> DAObject:
        """Create ``self.<name>`` as a ``cls`` named ``<instanceName>.<name>``; keep it if it exists."""
        existing = self.__dict__.get(name)
        if isinstance(existing, _class_of(cls)):
            return existing
        child = cls(self.attr_name(name), **kwargs)
        setattr(self, name, child)
        return child

    def initializeObject(self, name: str, cls: ObjectMaker, **kwargs: Any) -> DAObject:
        """Same as `initializeAttribute` (docassemble accepts both spellings)."""
        return self.initializeAttribute(name, cls, **kwargs)

    def attribute_defined(self, name: str) -> bool:
        """Whether ``self.<name>`` exists now; never raises and never asks a question."""
        if name in self.__dict__:
            return True
        return not name.startswith("_") and hasattr(type(self), name)

    def defined(self, name: str) -> bool:
        """Whether a dotted path below this object exists: ``user.defined('name.first')``."""
        target: Any = self
        for part in name.split("."):
            if isinstance(target, DAObject):
                if not target.attribute_defined(part):
                    return False
            try:
                target = getattr(target, part)
            except (AttributeError, MissingVariable):
                return False
        return True

    def set_instance_name_recursively(self, name: str) -> None:
        """Rename this object and every object below it named after it (``a.b`` → ``x.b``)."""
        _rename(self, self.instanceName, name, set())


class DAObjectFactory:
    """What ``SomeClass.using(**params)`` returns: a picklable recipe for new objects.

    Calling it with a name builds ``SomeClass(name, **params)``; keyword
    arguments given at the call win over ``params``.

    Example::

        objects:
          - children: DAList.using(object_type=Individual, there_are_any=True)
    """

    def __init__(self, object_class: type[DAObject], params: dict[str, Any]) -> None:
        self.object_class = object_class
        self.params = params

    def __call__(self, instanceName: str | None = None, **kwargs: Any) -> DAObject:
        return self.object_class(instanceName, **{**self.params, **kwargs})

    def using(self, **params: Any) -> DAObjectFactory:
        """Add or override parameters."""
        return DAObjectFactory(self.object_class, {**self.params, **params})

    def __repr__(self) -> str:
        return f"{self.object_class.__name__}.using(**{self.params!r})"


# A class, or a class with parameters; what `object_type` and `initializeAttribute` accept.
ObjectMaker: TypeAlias = type[DAObject] | DAObjectFactory


def _class_of(maker: ObjectMaker) -> type[DAObject]:
    return maker.object_class if isinstance(maker, DAObjectFactory) else maker


def _rename(obj: DAObject, old: str, new: str, seen: set[int]) -> None:
    if id(obj) in seen:
        return
    seen.add(id(obj))
    current = obj.instanceName
    if current == old or current.startswith((old + ".", old + "[")):
        obj.instanceName = new + current[len(old) :]
        obj.has_nonrandom_instance_name = not new.startswith("_unnamed_")
    values: list[Any] = list(obj.__dict__.values())
    elements = obj.__dict__.get("elements")
    if isinstance(elements, dict):
        values.extend(elements.values())
    elif isinstance(elements, list | set):
        values.extend(elements)
    for value in values:
        if isinstance(value, DAObject):
            _rename(value, old, new, seen)


# --- words: the text module is preferred when it is there -----------------------------------------

_TEXT_FUNCTIONS: dict[str, Callable[..., Any] | None] = {}

_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def _text_function(name: str) -> Callable[..., Any] | None:
    """``chalicelib.library.text.<name>`` if that module provides it (looked up once per process)."""
    if name not in _TEXT_FUNCTIONS:
        try:
            module = importlib.import_module("chalicelib.library.text")
        except ImportError:
            found = None
        else:
            found = getattr(module, name, None)
        _TEXT_FUNCTIONS[name] = found if callable(found) else None
    return _TEXT_FUNCTIONS[name]


def _plain_comma_and_list(items: list[Any]) -> str:
    """``a``, ``a and b``, ``a, b, and c``: the fallback when the text module is absent."""
    words = [str(item) for item in items]
    if len(words) <= 1:
        return "".join(words)
    if len(words) == 2:
        return f"{words[0]} and {words[1]}"
    return ", ".join(words[:-1]) + ", and " + words[-1]


def _comma_and_list(items: list[Any], **kwargs: Any) -> str:
    func = _text_function("comma_and_list")
    if func is None:
        return _plain_comma_and_list(items)
    return str(func(items, **kwargs))


def _nice_number(number: int) -> str:
    func = _text_function("nice_number")
    if func is not None:
        return str(func(number))
    return _NUMBER_WORDS[number] if 0 <= number < len(_NUMBER_WORDS) else str(number)


# --- containers ----------------------------------------------------------------------------------


class _DAContainer(DAObject):
    """What DAList, DADict and DASet share: gathering, counting, printing.

    Subclasses keep their items in ``self.elements`` (a list, dict or set) and
    provide `_members` (the items to complete), `_display_items` and, for the
    keyed gather, `_fill_key`.
    """

    object_type: ObjectMaker | None
    complete_attribute: str | list[str] | None
    auto_gather: bool
    # Set by the interview (undefined until then; reading one seeks it):
    gathered: bool
    there_are_any: bool
    there_is_another: bool
    new_item_name: Any

    def init(self, **kwargs: Any) -> None:
        self.object_type = None
        self.complete_attribute = None
        self.auto_gather = True
        super().init(**kwargs)

    def __getattr__(self, attr: str) -> Any:
        # `gathered` is undefined until gathering ends; reading it gathers (auto_gather)
        # or is sought like any other variable (a code block sets it).
        if attr == "gathered" and self.__dict__.get("auto_gather", False):
            return self.gather()
        return super().__getattr__(attr)

    def gather(self) -> bool:
        """Gather the entries (see the class docstring); True once done."""
        return self._run_gather(self._gather_keyed)

    def _gather_keyed(self) -> bool:
        """DADict and DASet: there_are_any, then new_item_name (+ value) and there_is_another."""
        if not self.elements and not self.there_are_any:
            return self._finish_gathering()
        while True:
            if "new_item_name" in self.__dict__:  # a key answered earlier, maybe still without a value
                self._fill_key(self.new_item_name)
                del self.new_item_name
            self._complete_all()
            if self.elements:
                if not self.there_is_another:
                    return self._finish_gathering()
                del self.there_is_another  # asked again after the next entry
            self._fill_key(self.new_item_name)  # seeks `<name>.new_item_name` first
            del self.new_item_name

    def _run_gather(self, body: Callable[[], bool]) -> bool:
        if self.__dict__.get("gathered"):
            return True
        nested = self.__dict__.get("_in_gather", False)
        self._in_gather = True  # reads of this container from inside the gather see it as it is
        try:
            return body()
        except MissingVariable as missing:
            self._gathering_now = missing.name  # what the question about to be shown defines
            raise
        finally:
            if not nested:
                self.__dict__.pop("_in_gather", None)

    def _fill_key(self, key: Any) -> None:
        raise NotImplementedError

    def _members(self) -> Iterable[Any]:
        raise NotImplementedError

    def _display_items(self, complete_only: bool) -> list[Any]:
        raise NotImplementedError

    def _finish_gathering(self) -> bool:
        self.gathered = True
        self.__dict__.pop("_gathering_now", None)
        return True

    def _complete_all(self) -> None:
        for item in list(self._members()):
            self._complete_item(item)

    def _complete_item(self, item: Any) -> None:
        """Touch what makes an item complete: ``complete_attribute``, else its text if it is an object."""
        attributes = self.complete_attribute
        if attributes is None:
            if isinstance(item, DAObject):
                str(item)
            return
        for path in [attributes] if isinstance(attributes, str) else attributes:
            target = item
            for part in path.split("."):
                target = getattr(target, part)

    def _is_complete(self, item: Any) -> bool:
        try:
            self._complete_item(item)
        except MissingVariable:
            return False
        return True

    def _trigger_gather(self) -> bool:
        """Gather before a use; False when only what is there so far can be used (see the module doc)."""
        state = self.__dict__
        if state.get("gathered"):
            return True
        if state.get("_in_gather"):
            return False
        if not state.get("auto_gather", True):
            if "gathered" not in state:
                raise MissingVariable(self.attr_name("gathered"))
            return True  # `gathered = False` set by the author: use the items as they are
        waiting = state.get("_gathering_now")
        try:
            return self.gather()
        except MissingVariable as missing:
            if waiting is None or missing.name != waiting:
                raise
            return False

    def reset_gathered(self, recursive: bool = False, only_if_empty: bool = False) -> None:
        """Forget that gathering finished, so the next use asks ``there_is_another`` again."""
        if only_if_empty and self.elements:
            return
        for attr in ("gathered", "there_is_another", "new_item_name", *_TRANSIENT_ATTRIBUTES):
            self.__dict__.pop(attr, None)
        if not self.elements:
            self.__dict__.pop("there_are_any", None)
        if recursive:
            for item in self._members():
                if isinstance(item, _DAContainer):
                    item.reset_gathered(recursive=True)

    def clear(self) -> None:
        """Remove every item (gathering state is left alone)."""
        self.elements.clear()

    def number(self) -> int:
        """How many items, after gathering."""
        self._trigger_gather()
        return len(self.elements)

    def number_as_word(self) -> str:
        """`number` in words: ``two``."""
        return _nice_number(self.number())

    def comma_and_list(self, **kwargs: Any) -> str:
        """The items as ``a, b, and c`` (DADict: its keys), after gathering."""
        complete = self._trigger_gather()
        return _comma_and_list(self._display_items(complete_only=not complete), **kwargs)

    def __str__(self) -> str:
        return self.comma_and_list()

    def __len__(self) -> int:
        return self.number()

    def __iter__(self) -> Iterator[Any]:
        self._trigger_gather()
        items: Iterable[Any] = self.elements
        return iter(items)

    def __contains__(self, item: object) -> bool:
        self._trigger_gather()
        return item in self.elements


class DAList(_DAContainer):
    """A list that knows how to ask for its own items.

    Gathering (when the list is used before it is complete): if it is empty,
    ``people.there_are_any`` is sought; then each new item ``people[i]`` (for a
    list with ``object_type`` the object is created and its ``complete_attribute``,
    e.g. ``people[i].name.first``, or else its text, is sought); after each item
    ``people.there_is_another``, which is deleted when True so that it is asked
    again. With ``ask_number=True`` (or ``target_number`` set) it gathers exactly
    ``people.target_number`` items instead; ``minimum_number`` asks at least that
    many. A code block can end gathering by setting ``people.gathered = True``.

    Example::

        objects:
          - people: DAList.using(object_type=Individual, complete_attribute='name.first')
        ---
        question: Who is the ${ ordinal(i) } person?
        fields:
          - First name: people[i].name.first
        ---
        question: Is there anyone else besides ${ people }?
        yesno: people.there_is_another
    """

    elements: list[Any]
    ask_number: bool
    minimum_number: int | None
    target_number: int  # undefined until set or asked

    def init(self, **kwargs: Any) -> None:
        self.elements = []
        self.ask_number = False
        self.minimum_number = None
        initial = kwargs.pop("elements", None)
        super().init(**kwargs)
        if initial is not None:
            self.elements.extend(initial)
            self.gathered = True

    def gather(
        self,
        minimum: int | None = None,
        number: int | None = None,
        item_object_type: ObjectMaker | None = None,
        complete_attribute: str | list[str] | None = None,
    ) -> bool:
        """Gather the items (see the class docstring); True once done."""
        if item_object_type is not None:
            self.object_type = item_object_type
        if complete_attribute is not None:
            self.complete_attribute = complete_attribute
        return self._run_gather(lambda: self._gather_items(minimum, number))

    def _gather_items(self, minimum: int | None, number: int | None) -> bool:
        if number is None and (self.ask_number or "target_number" in self.__dict__):
            number = int(self.target_number)
        if minimum is None:
            minimum = self.minimum_number
        if number is None and not minimum and not self.elements and not self.there_are_any:
            return self._finish_gathering()
        while True:
            self._complete_all()
            count = len(self.elements)
            if not self._wants_another(count, minimum, number):
                return self._finish_gathering()
            self._fill_index(count)

    def _wants_another(self, count: int, minimum: int | None, number: int | None) -> bool:
        if number is not None:
            return count < number
        if count == 0 or (minimum is not None and count < minimum):
            return True
        if self.there_is_another:
            del self.there_is_another  # asked again after the next item
            return True
        return False

    def _fill_index(self, index: int) -> None:
        """Seek ``name[index]`` (index == len): create the object, or ask for the value."""
        if self.object_type is None:
            raise MissingVariable(f"{self.instanceName}[{index}]")
        self.appendObject()

    def _members(self) -> Iterable[Any]:
        return self.elements

    def _display_items(self, complete_only: bool) -> list[Any]:
        return [item for item in self.elements if not complete_only or self._is_complete(item)]

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice) or index < 0:
            self._trigger_gather()
            return self.elements[index]
        if index < len(self.elements):
            return self.elements[index]
        if self.__dict__.get("gathered"):
            raise IndexError(f"{self.instanceName}[{index}]: the list has {len(self.elements)} items")
        if self.object_type is None:
            # Items are filled in order, so the first missing one is what to ask for.
            raise MissingVariable(f"{self.instanceName}[{len(self.elements)}]")
        while len(self.elements) <= index:
            self.appendObject()
        return self.elements[index]

    def __setitem__(self, index: int | slice, value: Any) -> None:
        if isinstance(index, int) and index == len(self.elements):
            self.elements.append(value)
        elif isinstance(index, int) and index > len(self.elements):
            count = len(self.elements)
            raise IndexError(f"cannot set {self.instanceName}[{index}]: the list has {count} items")
        else:
            self.elements[index] = value

    def __delitem__(self, index: int | slice) -> None:
        del self.elements[index]

    def __reversed__(self) -> Iterator[Any]:
        self._trigger_gather()
        return iter(self.elements[::-1])

    def append(self, *items: Any) -> None:
        """Add items at the end (``fruit.append('apple', 'pear')``)."""
        self.elements.extend(items)

    def extend(self, items: Iterable[Any]) -> None:
        """Add every item of ``items`` at the end."""
        self.elements.extend(items)

    def insert(self, index: int, item: Any) -> None:
        """Insert ``item`` before position ``index``."""
        self.elements.insert(index, item)

    def remove(self, *items: Any) -> None:
        """Remove each item if present (no error when absent, as in docassemble)."""
        for item in items:
            if item in self.elements:
                self.elements.remove(item)

    def pop(self, index: int = -1) -> Any:
        """Remove and return the item at ``index`` (the last by default), after gathering."""
        self._trigger_gather()
        return self.elements.pop(index)

    def appendObject(self, cls: ObjectMaker | None = None, **kwargs: Any) -> DAObject:
        """Append a new object named ``<name>[<index>]`` of ``cls`` (default: ``object_type``)."""
        maker = cls if cls is not None else (self.object_type or DAObject)
        item = maker(f"{self.instanceName}[{len(self.elements)}]", **kwargs)
        self.elements.append(item)
        return item

    def first(self) -> Any:
        """The first item, after gathering."""
        self._trigger_gather()
        return self.elements[0]

    def last(self) -> Any:
        """The last item, after gathering."""
        self._trigger_gather()
        return self.elements[-1]

    def item(self, index: int) -> Any:
        """The item at ``index``, or ``''`` when there is none (never asks for it)."""
        self._trigger_gather()
        if -len(self.elements) <= index < len(self.elements):
            return self.elements[index]
        return ""


class DADict(_DAContainer):
    """A dictionary that knows how to ask for its own entries.

    A missing key is sought as ``assets['house']`` (the key's repr), or, when the
    dict has an ``object_type``, created as an object of that type.

    Gathering (when the dict is used before it is complete): if it is empty,
    ``assets.there_are_any``; then for each entry ``assets.new_item_name`` (the
    key), then ``assets[key]`` (or, for objects, their ``complete_attribute``),
    then ``assets.there_is_another`` (deleted when True, so asked again). A
    pending ``new_item_name`` is kept until its value is known.

    Example::

        objects:
          - assets: DADict.using(object_type=DAObject, complete_attribute='value')
        ---
        question: How much is the ${ i } worth?
        fields:
          - Value: assets[i].value
            datatype: currency
    """

    elements: dict[Any, Any]

    def init(self, **kwargs: Any) -> None:
        self.elements = {}
        initial = kwargs.pop("elements", None)
        super().init(**kwargs)
        if initial is not None:
            self.elements.update(initial)
            self.gathered = True

    def _fill_key(self, key: Any) -> None:
        if key not in self.elements:
            self.__getitem__(key)  # creates the object, or seeks `name[key]`

    def _members(self) -> Iterable[Any]:
        return self.elements.values()

    def _display_items(self, complete_only: bool) -> list[Any]:
        return [key for key, value in self.elements.items() if not complete_only or self._is_complete(value)]

    def __getitem__(self, key: Any) -> Any:
        try:
            return self.elements[key]
        except KeyError:
            pass
        if self.object_type is not None:
            return self.initializeObject(key)
        raise MissingVariable(f"{self.instanceName}[{key!r}]")

    def __setitem__(self, key: Any, value: Any) -> None:
        self.elements[key] = value

    def __delitem__(self, key: Any) -> None:
        del self.elements[key]

    def initializeObject(  # type: ignore[override]  # a key, not an attribute name
        self, key: Any, cls: ObjectMaker | None = None, **kwargs: Any
    ) -> DAObject:
        """Create ``self[key]`` as a ``cls`` (default ``object_type``) named ``name[key]``, if absent."""
        maker = cls if cls is not None else (self.object_type or DAObject)
        existing = self.elements.get(key)
        if isinstance(existing, _class_of(maker)):
            return existing
        item = maker(f"{self.instanceName}[{key!r}]", **kwargs)
        self.elements[key] = item
        return item

    def new(self, *keys: Any) -> None:
        """Create an object entry for each key (lists of keys are opened up)."""
        for key in keys:
            if isinstance(key, list | tuple | set):
                self.new(*key)
            else:
                self.initializeObject(key)

    def keys(self) -> KeysView[Any]:
        self._trigger_gather()
        return self.elements.keys()

    def values(self) -> ValuesView[Any]:
        self._trigger_gather()
        return self.elements.values()

    def items(self) -> ItemsView[Any, Any]:
        self._trigger_gather()
        return self.elements.items()

    def get(self, key: Any, default: Any = None) -> Any:
        """``self[key]`` if present, else ``default`` (never asks for the key)."""
        self._trigger_gather()
        return self.elements.get(key, default)

    def pop(self, key: Any, *default: Any) -> Any:
        """Remove ``key`` and return its value (or ``default``)."""
        return self.elements.pop(key, *default)

    def update(self, *others: Any, **kwargs: Any) -> None:
        """Set the entries of other dictionaries (a `DADict` or a dict) and of ``kwargs``, as dict.update."""
        for other in others:
            self.elements.update(other.elements if isinstance(other, DADict) else dict(other))
        self.elements.update(kwargs)


class DASet(_DAContainer):
    """A set of values; gathers like a `DADict` without values.

    If it is used while empty, ``colors.there_are_any`` is sought; when True,
    ``colors.new_item_name`` is added, then ``colors.there_is_another`` is asked
    (deleted when True). Printing sorts by text, so the order does not change
    from one process to the next.

    Example::

        objects:
          - colors: DASet
        ---
        code: |
          colors.add('red', 'blue')
          colors.gathered = True
    """

    elements: set[Any]

    def init(self, **kwargs: Any) -> None:
        self.elements = set()
        initial = kwargs.pop("elements", None)
        super().init(**kwargs)
        if initial is not None:
            self.elements.update(initial)
            self.gathered = True

    def _fill_key(self, key: Any) -> None:
        self.elements.add(key)

    def _members(self) -> Iterable[Any]:
        return self.elements

    def _display_items(self, complete_only: bool) -> list[Any]:
        shown = [item for item in self.elements if not complete_only or self._is_complete(item)]
        return sorted(shown, key=str)

    def add(self, *items: Any) -> None:
        """Add each item."""
        self.elements.update(items)

    def remove(self, *items: Any) -> None:
        """Remove each item if present (no error when absent, as in docassemble)."""
        self.elements.difference_update(items)

    def discard(self, *items: Any) -> None:
        """Same as `remove`."""
        self.elements.difference_update(items)


# --- names and people ----------------------------------------------------------------------------


class Name(DAObject):
    """A name given as one piece of text: ``thing.name.text``.

    Example::

        question: What is the name of the company?
        fields:
          - Name: company.name.text
    """

    _main_part: ClassVar[str] = "text"
    text: str

    def full(self, middle: str | bool | None = "initial", use_suffix: bool = True) -> str:
        """The whole name (seeks ``text``)."""
        return str(self.text).strip()

    def firstlast(self) -> str:
        return self.full()

    def lastfirst(self) -> str:
        return self.full()

    def defined(self, name: str | None = None) -> bool:
        """With no argument: whether the name itself is known (docassemble's ``name.defined()``)."""
        return super().defined(self._main_part if name is None else name)

    def __str__(self) -> str:
        return self.full()

    def _part(self, attr: str) -> str:
        """An optional part of the name, or '' when it is not defined (never asked for)."""
        value = self.__dict__.get(attr)
        return "" if value is None else str(value).strip()


class IndividualName(Name):
    """A person's name in parts: ``first`` (required), ``middle``, ``last``, ``suffix``.

    ``full()`` asks only for ``first``; the other parts appear when they are defined.

    Example::

        question: What is your name?
        fields:
          - First: user.name.first
          - Middle: user.name.middle
            required: False
          - Last: user.name.last
        ---
        subquestion: Hello, ${ user.name.full(middle='full') }.
    """

    _main_part: ClassVar[str] = "first"
    first: str
    middle: str
    last: str
    suffix: str

    def full(self, middle: str | bool | None = "initial", use_suffix: bool = True) -> str:
        """``John Q. Public`` (``middle='full'``: ``John Quincy Public``; ``middle=False``: none)."""
        parts = [str(self.first).strip()]
        if middle:
            parts.append(self.middle_initial() if middle == "initial" else self._part("middle"))
        parts.append(self._part("last"))
        if use_suffix:
            parts.append(self._part("suffix"))
        return " ".join(part for part in parts if part)

    def middle_initial(self, with_period: bool = True) -> str:
        """``Q.`` for a middle name ``Quincy``; '' when there is none."""
        middle = self._part("middle")
        if not middle:
            return ""
        return middle[0] + ("." if with_period else "")

    def familiar(self) -> str:
        """The first name."""
        return str(self.first).strip()

    def firstlast(self) -> str:
        """``John Public`` (seeks ``first`` and ``last``)."""
        return f"{str(self.first).strip()} {str(self.last).strip()}"

    def lastfirst(self) -> str:
        """``Public Jr., John Q.`` (seeks ``last`` and ``first``)."""
        last = " ".join(part for part in (str(self.last).strip(), self._part("suffix")) if part)
        first = " ".join(part for part in (str(self.first).strip(), self.middle_initial()) if part)
        return f"{last}, {first}"


class _NamedObject(DAObject):
    """Something with a ``name`` object created with it (unless one is given)."""

    _name_class: ClassVar[type[Name]] = Name
    name: Any  # a Name (IndividualName for an Individual)

    def init(self, **kwargs: Any) -> None:
        if "name" not in kwargs:
            self.initializeAttribute("name", self._name_class)
        super().init(**kwargs)

    def __str__(self) -> str:
        return str(self.name.full())


class Thing(_NamedObject):
    """A thing with a name; ``str(thing)`` is ``thing.name.text``.

    Example::

        objects:
          - vehicle: Thing
        ---
        question: What kind of vehicle do you have?
        fields:
          - Vehicle: vehicle.name.text
    """


class Person(_NamedObject):
    """A person or organization with a one-piece `Name`; ``email``, ``phone_number`` and
    ``address`` are ordinary attributes, sought when used.

    Example::

        objects:
          - landlord: Person
        ---
        question: Who is your landlord?
        fields:
          - Name: landlord.name.text
          - E-mail: landlord.email
            datatype: email
    """

    email: str
    phone_number: str
    address: Any

    def possessive(self, target: str) -> str:
        """``John Public's book``."""
        return f"{self}'s {target}"


class Individual(Person):
    """A human being, whose ``name`` is an `IndividualName` (so ``user.name.first`` is sought).

    Example::

        objects:
          - user: Individual
        ---
        mandatory: True
        question: Thank you, ${ user }.
    """

    _name_class: ClassVar[type[Name]] = IndividualName

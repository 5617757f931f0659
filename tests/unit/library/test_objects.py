"""The interview objects: names sought, pickling, gathering, names of people."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.engine.signals import MissingVariable
from chalicelib.library.objects import (
    DADict,
    DAList,
    DAObject,
    DASet,
    Individual,
    IndividualName,
    Name,
    Person,
    Thing,
    _plain_comma_and_list,
)

Script = list[tuple[str, Any]]


def _assign(namespace: dict[str, Any], name: str, value: Any) -> None:
    """`name = value` as the engine would do it (attributes and items of existing objects)."""
    exec(f"{name} = __value", {**namespace, "__value": value})


def drive(
    namespace: dict[str, Any], use: Callable[[dict[str, Any]], Any], script: Script, *, turns: bool = True
) -> Any:
    """Run `use` until it stops asking; each question must be the next one in `script`.

    With `turns`, the answers are pickled between questions, as the engine saves them.
    """
    pending = list(script)
    for _ in range(len(script) + 1):
        try:
            result = use(namespace)
        except MissingVariable as missing:
            assert pending, f"unexpected question {missing.name!r}"
            name, value = pending.pop(0)
            assert missing.name == name
            _assign(namespace, name, value)
            if turns:
                namespace = pickle.loads(pickle.dumps(namespace))
        else:
            assert pending == [], f"never asked {pending}"
            return result
    raise AssertionError("the script ran out")


def missing_name(action: Callable[[], Any]) -> str:
    with pytest.raises(MissingVariable) as info:
        action()
    return info.value.name


# --- DAObject ------------------------------------------------------------------------------------


def test_missing_attribute_is_sought_by_its_full_name() -> None:
    user = Individual("user")
    assert missing_name(lambda: user.name.first) == "user.name.first"
    assert missing_name(lambda: user.email) == "user.email"
    assert missing_name(lambda: DAObject("case").court.address) == "case.court"  # the first missing link
    case = DAObject("case")
    case.initializeAttribute("court", DAObject)
    assert missing_name(lambda: case.court.address) == "case.court.address"


def test_private_and_dunder_names_raise_attribute_error() -> None:
    thing = DAObject("thing")
    with pytest.raises(AttributeError):
        thing._foo
    with pytest.raises(AttributeError):
        thing.__deepcopy_me__
    assert not hasattr(thing, "__html__")


def test_hasattr_propagates_missing_variable_and_attribute_defined_does_not() -> None:
    user = Individual("user")
    with pytest.raises(MissingVariable):
        hasattr(user, "email")
    assert user.attribute_defined("email") is False
    user.email = "a@example.com"
    assert user.attribute_defined("email") is True
    assert user.attribute_defined("possessive") is True  # a method counts
    assert user.defined("name.first") is False
    user.name.first = "Ann"
    assert user.defined("name.first") is True
    assert user.defined("name.first.nothing") is False


def test_keyword_arguments_become_attributes() -> None:
    case = DAObject("case", court="Superior", number=7)
    assert (case.instanceName, case.court, case.number) == ("case", "Superior", 7)
    assert vars(case)["court"] == "Superior"  # plain attributes, nothing computed


def test_object_without_a_name_gets_a_private_one() -> None:
    obj = DAObject()
    assert obj.has_nonrandom_instance_name is False
    assert missing_name(lambda: obj.color).endswith(".color")


def test_initialize_attribute_names_the_child_after_its_parent() -> None:
    case = DAObject("case")
    judge = case.initializeAttribute("judge", Individual)
    assert judge.instanceName == "case.judge"
    assert case.initializeAttribute("judge", Individual) is judge  # kept when it exists
    clerk = case.initializeObject("clerk", Person)
    assert clerk is case.clerk and clerk.instanceName == "case.clerk"
    assert missing_name(lambda: case.judge.name.first) == "case.judge.name.first"
    assert case.attr_name("judge") == "case.judge"
    assert DAObject("user.home_address").object_name() == "user's home address"


def test_str_of_a_plain_object_is_its_name() -> None:
    assert str(DAObject("case")) == "case"
    assert repr(DAObject("case")) == "DAObject('case')"


def test_objects_compare_by_identity() -> None:
    a, b = DAObject("x", v=1), DAObject("x", v=1)
    assert a != b and a == a
    assert len({a, b}) == 2


def test_set_instance_name_recursively_renames_children() -> None:
    spouse = Individual()
    spouse.kids = DAList(f"{spouse.instanceName}.kids", object_type=Individual)
    spouse.kids.appendObject()
    spouse.set_instance_name_recursively("user.spouse")
    assert spouse.name.instanceName == "user.spouse.name"
    assert spouse.kids[0].name.instanceName == "user.spouse.kids[0].name"
    assert missing_name(lambda: spouse.kids[0].name.first) == "user.spouse.kids[0].name.first"


# --- pickling and copying ------------------------------------------------------------------------


def _sample() -> dict[str, Any]:
    user = Individual("user")
    user.name.first = "Ann"
    people = DAList("people", object_type=Individual)
    people.appendObject().name.first = "Bob"
    people.append(user)
    assets = DADict("assets", object_type=DAObject)
    assets.initializeObject("house").value = 100
    colors = DASet("colors", elements=["red"])
    return {"user": user, "people": people, "assets": assets, "colors": colors}


def test_objects_survive_a_pickle_round_trip() -> None:
    restored = pickle.loads(pickle.dumps(_sample()))
    user, people = restored["user"], restored["people"]
    assert str(user) == "Ann"
    assert people[1] is user  # shared references stay shared
    assert people[0].name.first == "Bob"
    assert people.object_type is Individual
    assert restored["assets"]["house"].value == 100
    assert "red" in restored["colors"]
    assert missing_name(lambda: user.name.last) == "user.name.last"
    assert missing_name(lambda: restored["assets"]["car"].value) == "assets['car'].value"


def test_deepcopy_makes_an_independent_copy() -> None:
    original = _sample()
    copied = copy.deepcopy(original)
    copied["user"].name.first = "Zed"
    copied["people"].appendObject()
    assert original["user"].name.first == "Ann"
    assert len(original["people"].elements) == 2
    assert copied["people"][1] is copied["user"]


def test_using_builds_objects_with_parameters_and_pickles() -> None:
    maker = DAList.using(object_type=Individual, there_are_any=False)
    people = pickle.loads(pickle.dumps(maker))("people")
    assert isinstance(people, DAList) and people.object_type is Individual
    assert people.number() == 0
    kids = DAObject("user").initializeAttribute("kids", DAList.using(object_type=Individual))
    assert kids.instanceName == "user.kids" and kids.object_type is Individual


# --- DAList --------------------------------------------------------------------------------------


def test_list_gathers_through_there_are_any_items_and_there_is_another() -> None:
    namespace: dict[str, Any] = {"people": DAList("people")}
    script: Script = [
        ("people.there_are_any", True),
        ("people[0]", "Ann"),
        ("people.there_is_another", True),
        ("people[1]", "Bob"),
        ("people.there_is_another", False),
    ]
    assert drive(namespace, lambda ns: str(ns["people"]), script) == "Ann and Bob"


def test_list_gathers_in_one_evaluation_too() -> None:
    people = DAList("people")
    script: Script = [
        ("people.there_are_any", True),
        ("people[0]", "Ann"),
        ("people.there_is_another", False),
    ]
    assert drive({"people": people}, lambda ns: len(ns["people"]), script, turns=False) == 1
    assert people.gathered is True and people.elements == ["Ann"]


def test_list_with_no_items() -> None:
    namespace: dict[str, Any] = {"people": DAList("people")}
    script: Script = [("people.there_are_any", False)]
    assert drive(namespace, lambda ns: (str(ns["people"]), len(ns["people"])), script) == ("", 0)


def test_list_of_objects_asks_for_the_complete_attribute() -> None:
    namespace: dict[str, Any] = {
        "people": DAList("people", object_type=Individual, complete_attribute="name.first")
    }
    script: Script = [
        ("people.there_are_any", True),
        ("people[0].name.first", "Ann"),
        ("people.there_is_another", True),
        ("people[1].name.first", "Bob"),
        ("people.there_is_another", False),
    ]
    assert drive(namespace, lambda ns: [p.name.first for p in ns["people"]], script) == ["Ann", "Bob"]


def test_list_of_objects_without_complete_attribute_asks_for_their_text() -> None:
    namespace: dict[str, Any] = {"people": DAList("people", object_type=Individual, there_are_any=True)}
    script: Script = [("people[0].name.first", "Ann"), ("people.there_is_another", False)]
    assert drive(namespace, lambda ns: str(ns["people"]), script) == "Ann"


def test_list_with_a_target_number() -> None:
    namespace: dict[str, Any] = {"kids": DAList("kids", ask_number=True)}
    script: Script = [("kids.target_number", 2), ("kids[0]", "Al"), ("kids[1]", "Bo")]
    assert drive(namespace, lambda ns: ns["kids"].comma_and_list(), script) == "Al and Bo"
    namespace = {"kids": DAList("kids", target_number=1)}
    assert drive(namespace, lambda ns: list(ns["kids"]), [("kids[0]", "X")]) == ["X"]


def test_gather_with_minimum_and_number_arguments() -> None:
    people = DAList("people")
    script: Script = [("people[0]", "A"), ("people[1]", "B"), ("people.there_is_another", False)]
    assert drive({"people": people}, lambda ns: ns["people"].gather(minimum=2), script, turns=False) is True
    fixed = DAList("fixed")
    assert drive({"fixed": fixed}, lambda ns: ns["fixed"].gather(number=1), [("fixed[0]", "A")]) is True


def test_reading_gathered_drives_gathering() -> None:
    namespace: dict[str, Any] = {"people": DAList("people")}
    script: Script = [
        ("people.there_are_any", True),
        ("people[0]", "Ann"),
        ("people.there_is_another", False),
    ]
    assert drive(namespace, lambda ns: ns["people"].gathered, script) is True


def test_list_without_auto_gather_seeks_gathered() -> None:
    people = DAList("people", auto_gather=False)
    assert missing_name(lambda: len(people)) == "people.gathered"
    people.append("Ann")
    people.gathered = True
    assert len(people) == 1


def test_partial_list_is_shown_while_its_question_is_asked() -> None:
    people = DAList("people", elements=["Ann"])
    people.reset_gathered()
    assert missing_name(lambda: str(people)) == "people.there_is_another"
    # Rendering the question for people.there_is_another: what is there so far.
    assert str(people) == "Ann"
    assert people.number_as_word() == "one"
    # Once saved and loaded again, the list asks again.
    restored = pickle.loads(pickle.dumps(people))
    assert missing_name(lambda: restored.number()) == "people.there_is_another"


def test_partial_text_leaves_out_the_item_being_asked_about() -> None:
    people = DAList("people", object_type=Individual, elements=[])
    people.reset_gathered()
    people.there_are_any = True
    people.appendObject().name.first = "Ann"
    people.there_is_another = True
    assert missing_name(lambda: people.number()) == "people[1].name.first"
    assert str(people) == "Ann"
    assert people.number() == 2


def test_a_new_missing_name_is_not_hidden_by_the_partial_view() -> None:
    people = DAList("people")
    assert missing_name(lambda: len(people)) == "people.there_are_any"
    people.there_are_any = True  # defined by a code block in the same evaluation
    assert missing_name(lambda: len(people)) == "people[0]"


def test_indexing_past_the_end_asks_for_the_next_item() -> None:
    people = DAList("people")
    assert missing_name(lambda: people[0]) == "people[0]"
    people[0] = "Ann"
    assert missing_name(lambda: people[3]) == "people[1]"
    with pytest.raises(IndexError):
        people[5] = "Gap"
    people.gathered = True
    with pytest.raises(IndexError):
        people[1]


def test_indexing_a_list_of_objects_creates_them() -> None:
    people = DAList("people", object_type=Individual)
    assert missing_name(lambda: people[1].name.first) == "people[1].name.first"
    assert [p.instanceName for p in people.elements] == ["people[0]", "people[1]"]


def test_reset_gathered_asks_again() -> None:
    people = DAList("people", elements=["Ann"])
    assert people.number() == 1
    people.reset_gathered()
    script: Script = [
        ("people.there_is_another", True),
        ("people[1]", "Bob"),
        ("people.there_is_another", False),
    ]
    assert drive({"people": people}, lambda ns: str(ns["people"]), script) == "Ann and Bob"


def test_list_methods() -> None:
    fruit = DAList("fruit", elements=["apple"])
    fruit.append("pear", "plum")
    fruit.extend(["fig"])
    fruit.remove("plum", "not there")
    assert fruit.elements == ["apple", "pear", "fig"]
    assert "pear" in fruit and "plum" not in fruit
    assert (fruit.first(), fruit.last(), fruit.item(1), fruit.item(9)) == ("apple", "fig", "pear", "")
    assert fruit.number() == 3 and fruit.number_as_word() == "three"
    assert fruit[-1] == "fig" and fruit[0:2] == ["apple", "pear"]
    assert list(reversed(fruit)) == ["fig", "pear", "apple"]
    assert fruit.pop() == "fig"
    assert str(fruit) == "apple and pear"
    fruit.clear()
    assert len(fruit) == 0
    obj = DAList("things").appendObject(Thing, color="red")
    assert obj.instanceName == "things[0]" and obj.color == "red"


def test_plain_comma_and_list_fallback() -> None:
    assert [_plain_comma_and_list(items) for items in ([], ["a"], ["a", "b"], ["a", "b", "c"])] == [
        "",
        "a",
        "a and b",
        "a, b, and c",
    ]


def test_repr_does_not_gather() -> None:
    assert repr(DAList("people")) == "DAList('people')"


# --- DADict --------------------------------------------------------------------------------------


def test_missing_key_is_sought_by_its_repr() -> None:
    assets = DADict("assets")
    assert missing_name(lambda: assets["house"]) == "assets['house']"
    assert missing_name(lambda: assets[2]) == "assets[2]"
    assets["house"] = 100
    assert assets["house"] == 100


def test_dict_of_objects_creates_entries() -> None:
    assets = DADict("assets", object_type=DAObject)
    assert missing_name(lambda: assets["house"].value) == "assets['house'].value"
    assert assets.initializeObject("house") is assets["house"]
    assets.new("car", ["boat", "bike"])
    assert sorted(assets.elements) == ["bike", "boat", "car", "house"]
    assert assets.elements["boat"].instanceName == "assets['boat']"


def test_dict_gathers_keys_then_values() -> None:
    namespace: dict[str, Any] = {"assets": DADict("assets")}
    script: Script = [
        ("assets.there_are_any", True),
        ("assets.new_item_name", "house"),
        ("assets['house']", 100),
        ("assets.there_is_another", True),
        ("assets.new_item_name", "car"),
        ("assets['car']", 5),
        ("assets.there_is_another", False),
    ]
    assert drive(namespace, lambda ns: dict(ns["assets"].items()), script) == {"house": 100, "car": 5}


def test_dict_of_objects_gathers_the_complete_attribute() -> None:
    namespace: dict[str, Any] = {"assets": DADict("assets", object_type=DAObject, complete_attribute="value")}
    script: Script = [
        ("assets.there_are_any", True),
        ("assets.new_item_name", "house"),
        ("assets['house'].value", 100),
        ("assets.there_is_another", False),
    ]
    assert drive(namespace, lambda ns: str(ns["assets"]), script) == "house"


def test_dict_methods() -> None:
    ages = DADict("ages", elements={"Ann": 30, "Bob": 40})
    assert ages.gathered is True
    assert list(ages) == ["Ann", "Bob"] and list(ages.keys()) == ["Ann", "Bob"]
    assert list(ages.values()) == [30, 40] and ages.get("Cy", 0) == 0
    assert "Ann" in ages and len(ages) == 2 and ages.number_as_word() == "two"
    assert str(ages) == "Ann and Bob"
    del ages["Ann"]
    assert ages.pop("Bob") == 40 and ages.pop("Zed", None) is None


def test_dict_with_no_entries() -> None:
    assert drive({"d": DADict("d")}, lambda ns: len(ns["d"]), [("d.there_are_any", False)]) == 0


# --- DASet ---------------------------------------------------------------------------------------


def test_set_basics() -> None:
    colors = DASet("colors", elements=["red"])
    colors.add("blue", "green")
    colors.remove("green", "not there")
    colors.discard("nothing")
    assert "blue" in colors and "green" not in colors
    assert len(colors) == 2 and sorted(colors) == ["blue", "red"]
    assert str(colors) == "blue and red"  # sorted, so stable across processes


def test_set_asks_there_are_any_only_when_empty() -> None:
    assert drive({"s": DASet("s")}, lambda ns: str(ns["s"]), [("s.there_are_any", False)]) == ""
    script: Script = [("s.there_are_any", True), ("s.new_item_name", "red"), ("s.there_is_another", False)]
    assert drive({"s": DASet("s")}, lambda ns: str(ns["s"]), script) == "red"


# --- names and people ----------------------------------------------------------------------------


def test_individual_name_forms() -> None:
    user = Individual("user")
    assert isinstance(user.name, IndividualName)
    assert missing_name(lambda: str(user)) == "user.name.first"
    user.name.first = "John"
    assert str(user) == "John"  # last is used only when defined
    assert missing_name(lambda: user.name.firstlast()) == "user.name.last"
    user.name.last = "Public"
    user.name.middle = "Quincy"
    assert user.name.full() == "John Q. Public"
    assert user.name.full(middle="full") == "John Quincy Public"
    assert user.name.full(middle=False) == "John Public"
    assert user.name.firstlast() == "John Public"
    assert user.name.lastfirst() == "Public, John Q."
    user.name.suffix = "Jr."
    assert str(user) == "John Q. Public Jr." and user.name.full(use_suffix=False) == "John Q. Public"
    assert user.name.lastfirst() == "Public Jr., John Q."
    assert user.possessive("book") == "John Q. Public Jr.'s book"
    assert user.name.defined() is True and Individual("x").name.defined() is False


def test_thing_and_person_use_a_one_piece_name() -> None:
    car = Thing("car")
    assert isinstance(car.name, Name) and not isinstance(car.name, IndividualName)
    assert missing_name(lambda: str(car)) == "car.name.text"
    car.name.text = "Honda"
    assert str(car) == "Honda"
    landlord = Person("landlord")
    landlord.name.text = "Acme LLC"
    assert str(landlord) == "Acme LLC"
    assert missing_name(lambda: landlord.email) == "landlord.email"
    assert missing_name(lambda: landlord.phone_number) == "landlord.phone_number"


def test_a_given_name_is_kept() -> None:
    name = IndividualName("boss.name", first="Ann")
    assert str(Individual("boss", name=name)) == "Ann"

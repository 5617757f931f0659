"""Text helpers: numbers, nouns, lists and strings, as docassemble authors use them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chalicelib.library import text
from chalicelib.library.text import (
    capitalize,
    comma_and_list,
    comma_list,
    currency,
    indent,
    nice_number,
    noun_plural,
    noun_singular,
    ordinal,
    ordinal_number,
    quantity_noun,
    single_paragraph,
    space_to_underscore,
    title_case,
)

# --- nice_number --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("num", "expected"),
    [
        (0, "zero"),
        (3, "three"),
        (10, "ten"),
        (11, "11"),
        (1234, "1,234"),
        (1234567, "1,234,567"),
        (-3, "-3"),
        (2.5, "2.5"),
        (2.50, "2.5"),
        (3.0, "three"),
        (12.0, "12"),
        (1234.567, "1,234.57"),
        (2.999, "three"),
        (0.125, "0.13"),
        (Decimal("7.10"), "7.1"),
        ("7", "seven"),
        ("1,500", "1,500"),
    ],
)
def test_nice_number(num: object, expected: str) -> None:
    assert nice_number(num) == expected


def test_nice_number_options() -> None:
    assert nice_number(3, capitalize=True) == "Three"
    assert nice_number(4, use_word=False) == "4"
    assert nice_number(3.0, use_word=False) == "3"
    assert nice_number(21, use_word=True) == "twenty-one"
    assert nice_number(1234, use_word=True) == "one thousand two hundred thirty-four"
    assert nice_number(1_000_000, use_word=True) == "one million"
    assert nice_number(-3, use_word=True) == "minus three"
    assert nice_number(2.5, use_word=True) == "2.5"  # words only for whole numbers
    assert nice_number(12, use_word=True, capitalize=True) == "Twelve"


@pytest.mark.parametrize("bad", ["abc", None, float("nan"), float("inf")])
def test_nice_number_rejects_non_numbers(bad: object) -> None:
    with pytest.raises(ValueError):
        nice_number(bad)


# --- ordinals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "expected"),
    [(1, "first"), (2, "second"), (3, "third"), (5, "fifth"), (8, "eighth"), (9, "ninth"), (10, "tenth"),
     (11, "11th"), (12, "12th"), (13, "13th"), (21, "21st"), (22, "22nd"), (23, "23rd"), (101, "101st"),
     (111, "111th"), (112, "112th")],
)
def test_ordinal_number(n: int, expected: str) -> None:
    assert ordinal_number(n) == expected


def test_ordinal_is_zero_based() -> None:
    assert ordinal(0) == "first"
    assert ordinal(1) == "second"
    assert ordinal(9) == "tenth"
    assert ordinal(10) == "11th"
    assert ordinal(0, capitalize=True) == "First"


def test_ordinal_options() -> None:
    assert ordinal_number(3, use_word=False) == "3rd"
    assert ordinal_number(21, use_word=True) == "twenty-first"
    assert ordinal_number(12, use_word=True) == "twelfth"
    assert ordinal_number(40, use_word=True) == "fortieth"
    assert ordinal_number(100, use_word=True) == "one hundredth"
    assert ordinal_number(2, capitalize=True) == "Second"
    with pytest.raises(ValueError):
        ordinal_number(2.5)


# --- nouns -------------------------------------------------------------------------------------

# (singular, plural) pairs that must round-trip in both directions.
NOUNS = [
    ("time", "times"), ("fish", "fish"), ("box", "boxes"), ("city", "cities"), ("person", "people"),
    ("child", "children"), ("leaf", "leaves"), ("day", "days"), ("attorney", "attorneys"),
    ("class", "classes"), ("bus", "buses"), ("status", "statuses"), ("analysis", "analyses"),
    ("thesis", "theses"), ("house", "houses"), ("spouse", "spouses"), ("case", "cases"),
    ("expense", "expenses"), ("license", "licenses"), ("cause", "causes"), ("excuse", "excuses"),
    ("virus", "viruses"), ("census", "censuses"), ("church", "churches"), ("headache", "headaches"),
    ("approach", "approaches"), ("niche", "niches"), ("dish", "dishes"), ("tax", "taxes"),
    ("quiz", "quizzes"), ("buzz", "buzzes"), ("waltz", "waltzes"), ("size", "sizes"), ("hero", "heroes"),
    ("potato", "potatoes"), ("photo", "photos"), ("shoe", "shoes"), ("movie", "movies"), ("tie", "ties"),
    ("party", "parties"), ("lady", "ladies"), ("wife", "wives"), ("knife", "knives"), ("life", "lives"),
    ("olive", "olives"), ("glove", "gloves"), ("shelf", "shelves"), ("roof", "roofs"), ("chief", "chiefs"),
    ("woman", "women"), ("man", "men"), ("policeman", "policemen"), ("cameraman", "cameramen"),
    ("human", "humans"), ("specimen", "specimens"), ("grandchild", "grandchildren"),
    ("salesperson", "salespeople"), ("mouse", "mice"), ("tooth", "teeth"), ("foot", "feet"),
    ("goose", "geese"), ("mongoose", "mongooses"), ("cactus", "cacti"), ("criterion", "criteria"),
    ("crisis", "crises"), ("gas", "gases"), ("alias", "aliases"), ("lens", "lenses"),
    ("stomach", "stomachs"), ("ox", "oxen"), ("idea", "ideas"), ("address", "addresses"),
    ("business", "businesses"), ("witness", "witnesses"), ("issue", "issues"), ("employee", "employees"),
    ("key", "keys"), ("company", "companies"), ("slice", "slices"), ("sheep", "sheep"),
    ("information", "information"), ("series", "series"), ("species", "species"), ("half", "halves"),
    ("matrix", "matrices"), ("axis", "axes"), ("dose", "doses"), ("purchase", "purchases"),
    ("price", "prices"), ("premise", "premises"), ("hypothesis", "hypotheses"), ("cheese", "cheeses"),
    ("boss", "bosses"), ("echo", "echoes"), ("zoo", "zoos"), ("journey", "journeys"), ("toy", "toys"),
]


@pytest.mark.parametrize(("singular", "plural"), NOUNS)
def test_noun_round_trip(singular: str, plural: str) -> None:
    assert noun_plural(singular) == plural
    assert noun_plural(singular, noun_is_singular=True) == plural
    assert noun_plural(plural) == plural  # singularized first, so plurals are safe to pass
    assert noun_singular(plural) == singular
    assert noun_singular(singular) == singular  # singular words stay put


def test_noun_plural_count() -> None:
    assert noun_plural("time", 2) == "times"
    assert noun_plural("time", 1) == "time"
    assert noun_plural("time", 0) == "times"
    assert noun_plural("apples", 1) == "apple"
    assert noun_plural("apple", 1.0) == "apple"
    assert noun_plural("child", ["a"]) == "child"
    assert noun_plural("child", ["a", "b"]) == "children"
    assert noun_plural("box", {"x": 1, "y": 2}) == "boxes"
    assert noun_plural("box", "1") == "box"  # a numeric string is a number, not a one-letter sequence
    assert noun_plural("box", "2") == "boxes"


def test_noun_singular_count() -> None:
    assert noun_singular("apples", 2) == "apples"  # unchanged when count is not 1
    assert noun_singular("apples", []) == "apples"
    assert noun_singular("apples", 1) == "apple"
    assert noun_singular("apples", ["only"]) == "apple"


def test_noun_phrases_and_case() -> None:
    assert noun_plural("power of attorney") == "powers of attorney"
    assert noun_singular("powers of attorney") == "power of attorney"
    assert noun_plural("motion to dismiss") == "motions to dismiss"
    assert noun_plural("mother-in-law") == "mothers-in-law"
    assert noun_plural("court case") == "court cases"
    assert noun_plural("Child") == "Children"
    assert noun_plural("CITY") == "CITIES"
    assert noun_plural("") == ""


def test_quantity_noun() -> None:
    assert quantity_noun(3, "apple") == "3 apples"
    assert quantity_noun(1, "child") == "1 child"
    assert quantity_noun(0, "box") == "0 boxes"
    assert quantity_noun(1234, "person") == "1,234 people"
    assert quantity_noun(2.5, "hour", as_integer=False) == "2.5 hours"
    assert quantity_noun(2.5, "hour") == "3 hours"
    assert quantity_noun(1.0, "apple", capitalize=True) == "1 apple"
    assert quantity_noun(2, "day", capitalize=True) == "2 days"


# --- lists -------------------------------------------------------------------------------------


def test_comma_and_list_counts() -> None:
    assert comma_and_list() == ""
    assert comma_and_list([]) == ""
    assert comma_and_list("a") == "a"
    assert comma_and_list(["a"]) == "a"
    assert comma_and_list(["a", "b"]) == "a and b"
    assert comma_and_list(["a", "b", "c"]) == "a, b, and c"
    assert comma_and_list("a", "b", "c", "d") == "a, b, c, and d"


def test_comma_and_list_options() -> None:
    assert comma_and_list(["a", "b", "c"], oxford=False) == "a, b and c"
    assert comma_and_list(["a", "b"], and_string="or") == "a or b"
    assert comma_and_list(["a", "b", "c"], and_string="or") == "a, b, or c"
    assert comma_and_list(["a", "b", "c"], comma_string="; ") == "a; b; and c"
    assert comma_and_list(["a", "b"], before_and="\n", after_and="\n") == "a\nand\nb"


def test_comma_and_list_inputs() -> None:
    assert comma_and_list({"c", "a", "b"}) == "a, b, and c"  # sets are sorted for stable text
    assert comma_and_list({"x": 1, "y": 2}) == "x and y"
    assert comma_and_list({"x": 1, "y": 2}.keys()) == "x and y"
    assert comma_and_list(("p", "q")) == "p and q"
    assert comma_and_list(n for n in [1, 2, 3]) == "1, 2, and 3"
    assert comma_and_list("abc") == "abc"  # a string is one item
    assert comma_and_list("a", ["b", "c"]) == "a, b, and c"


def test_comma_list() -> None:
    assert comma_list("a", "b", "c") == "a, b, c"
    assert comma_list(["x", "y"]) == "x, y"
    assert comma_list([1, 2], comma_string="/") == "1/2"
    assert comma_list() == ""


# --- money ----------------------------------------------------------------------------------------


def test_currency() -> None:
    assert currency(1234.5) == "$1,234.50"
    assert currency(1234.5, decimals=False) == "$1,235"
    assert currency(0) == "$0.00"
    assert currency(-3) == "-$3.00"
    assert currency(5, symbol="€") == "€5.00"
    assert currency(5, symbol=None) == "$5.00"
    assert currency(2.675) == "$2.68"  # half up, not binary-float half even
    assert currency("1,000") == "$1,000.00"
    assert currency(Decimal("19.999")) == "$20.00"


@pytest.mark.parametrize("bad", [None, "", "abc"])
def test_currency_of_a_non_number_is_empty(bad: object) -> None:
    assert currency(bad) == ""


# --- strings -----------------------------------------------------------------------------------


def test_capitalize() -> None:
    assert capitalize("fred smith") == "Fred smith"
    assert capitalize("iPhone") == "IPhone"
    assert capitalize("") == ""
    assert capitalize(3) == "3"


def test_title_case() -> None:
    assert title_case("the lord of the rings") == "The Lord of the Rings"
    assert title_case("petition for a divorce") == "Petition for a Divorce"
    assert title_case("mother-in-law") == "Mother-in-Law"
    assert title_case("part one: the beginning") == "Part One: The Beginning"
    assert title_case("what is it for") == "What Is It For"
    assert title_case("my iPhone and NASA") == "My iPhone and NASA"
    assert title_case("MOTION TO DISMISS") == "Motion to Dismiss"


def test_space_to_underscore() -> None:
    assert space_to_underscore("Jane Q  Doe") == "Jane_Q_Doe"
    assert space_to_underscore("a\tb") == "a_b"


def test_single_paragraph() -> None:
    assert single_paragraph("123 Main St.\nApt. 4") == "123 Main St. Apt. 4"
    assert single_paragraph("one\r\n\r\n  two") == "one two"
    assert single_paragraph("no breaks") == "no breaks"


def test_indent() -> None:
    assert indent("a\nb") == "    a\n    b"
    assert indent("a\n\nb\n") == "    a\n    \n    b\n"
    assert indent("a", by=2) == "  a"


def test_public_names_are_documented() -> None:
    for name in text.__all__:
        doc = getattr(text, name).__doc__
        assert doc and "Example" in doc, name


# --- long user values: linear work, same answers --------------------------------------------------


def test_noun_plural_of_a_long_answer_changes_only_its_last_word() -> None:
    # Once a regex that took minutes on such values (a lazy prefix, then \s+ around the preposition).
    assert noun_plural("x" + " " * 50_000 + "cat") == "x" + " " * 50_000 + "cats"
    assert noun_plural("a" * 50_000 + "1") == "a" * 50_000 + "1"
    assert noun_plural("box " + " " * 50_000 + "of  apples") == "boxes " + " " * 50_000 + "of  apples"


def test_single_paragraph_of_a_long_run_of_spaces_keeps_it() -> None:
    spaces = " " * 50_000
    assert single_paragraph(spaces + "x") == spaces + "x"
    assert single_paragraph("a" + spaces + "\n" + spaces + "b") == "a b"


def test_noquote_escapes_quotes_and_markup_and_joins_lines() -> None:
    from chalicelib.library.text import Markup, noquote

    quoted = noquote('Say "hi" <b>\nnow')
    assert quoted == "Say &quot;hi&quot; &lt;b&gt; now"
    assert isinstance(quoted, Markup)

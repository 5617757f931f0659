"""Text formatting helpers for interview authors (docassemble's names and semantics).

Authors call these from code blocks and Mako templates, for example
``${ nice_number(child_count) }`` or ``${ comma_and_list(names) }``. Everything
here is English; a ``language`` argument is accepted where docassemble has one
and ignored. All functions are pure: they read no configuration and keep no
state between calls.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from chalicelib.language.markup import Indented, Markup

__all__ = [
    "Markup",
    "capitalize",
    "comma_and_list",
    "comma_list",
    "currency",
    "indent",
    "noquote",
    "nice_number",
    "noun_plural",
    "noun_singular",
    "ordinal",
    "ordinal_number",
    "quantity_noun",
    "single_paragraph",
    "space_to_underscore",
    "title_case",
]

# ---------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------

_SMALL_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS_WORDS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (10**3, "thousand"))
_ORDINAL_ENDINGS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
_CENT = Decimal("0.01")


def _cardinal_words(n: int) -> str:
    """Spell out an integer in American English: 1234 -> 'one thousand two hundred thirty-four'."""
    if n < 0:
        return "minus " + _cardinal_words(-n)
    if n < 20:
        return _SMALL_WORDS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS_WORDS[tens] + (f"-{_SMALL_WORDS[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_SMALL_WORDS[hundreds]} hundred" + (f" {_cardinal_words(rest)}" if rest else "")
    for value, name in _SCALES:
        if n >= value:
            head, rest = divmod(n, value)
            return f"{_cardinal_words(head)} {name}" + (f" {_cardinal_words(rest)}" if rest else "")
    raise AssertionError("unreachable")  # pragma: no cover


def _ordinal_words(n: int) -> str:
    """Spell out an ordinal: 1 -> 'first', 21 -> 'twenty-first', 100 -> 'one hundredth'."""
    words = _cardinal_words(n)
    match = re.search(r"[a-z]+$", words)
    assert match is not None
    head, last = words[: match.start()], match.group(0)
    if last in _ORDINAL_ENDINGS:
        last = _ORDINAL_ENDINGS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return head + last


def _to_decimal(num: Any) -> Decimal:
    """Read an int, float, Decimal, numeric string or object with __float__ as a Decimal."""
    try:
        if isinstance(num, bool):
            return Decimal(int(num))
        if isinstance(num, Decimal):
            value = num
        elif isinstance(num, int):
            value = Decimal(num)
        elif isinstance(num, str):
            value = Decimal(num.strip().replace(",", ""))
        else:
            value = Decimal(repr(float(num)))
    except (InvalidOperation, TypeError, ValueError) as err:
        raise ValueError(f"expected a number, found {num!r}") from err
    if not value.is_finite():
        raise ValueError(f"expected a finite number, found {num!r}")
    return value


def _round_number(num: Any) -> int | Decimal:
    """Round to cents (half up); a whole result comes back as an int."""
    if isinstance(num, int) and not isinstance(num, bool):
        return num
    value = _to_decimal(num).quantize(_CENT, rounding=ROUND_HALF_UP)
    if value == value.to_integral_value():
        return int(value)
    return value


def _grouped(value: int | Decimal) -> str:
    """Thousands-grouped digits; non-whole values keep up to two decimals, trailing zeros dropped."""
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def nice_number(
    num: Any, capitalize: bool = False, language: str | None = None, use_word: bool | None = None
) -> str:
    """Write a number the way it reads best in a sentence.

    Whole numbers from 0 to 10 become words; other whole numbers get thousands
    separators; other numbers are rounded to two decimals (half up) with trailing
    zeros removed. A float or Decimal that is whole (after that rounding) counts
    as the integer. ``use_word=True`` spells out any whole number, ``use_word=False``
    never uses words. ``capitalize=True`` capitalizes the first letter. Numeric
    strings are accepted; anything else raises ValueError. ``language`` is ignored
    (English only).

    Example::

        nice_number(3)                    # 'three'
        nice_number(1234)                 # '1,234'
        nice_number(2.50)                 # '2.5'
        nice_number(3.0, capitalize=True) # 'Three'
        nice_number(4, use_word=False)    # '4'
        nice_number(21, use_word=True)    # 'twenty-one'
    """
    value = _round_number(num)
    if isinstance(value, int) and use_word is not False and (use_word or 0 <= value <= 10):
        result = _cardinal_words(value)
    else:
        result = _grouped(value)
    return _upper_first(result) if capitalize else result


def ordinal_number(n: Any, capitalize: bool = False, use_word: bool | None = None) -> str:
    """The ordinal for a counting number (1-based).

    1 to 10 are words ("first" ... "tenth"); other numbers use digits with a
    suffix ("11th", "22nd", "103rd"). ``use_word=True`` spells out every number,
    ``use_word=False`` always uses digits. Use `ordinal` for 0-based indexes.

    Example::

        ordinal_number(1)                  # 'first'
        ordinal_number(22)                 # '22nd'
        ordinal_number(3, capitalize=True) # 'Third'
        ordinal_number(3, use_word=False)  # '3rd'
    """
    value = _round_number(n)
    if not isinstance(value, int):
        raise ValueError(f"ordinal_number() needs a whole number, found {n!r}")
    if use_word is not False and (use_word or 0 <= value <= 10):
        result = _ordinal_words(value)
    else:
        last_two = abs(value) % 100
        if 11 <= last_two <= 13:
            suffix = "th"
        else:
            suffix = {1: "st", 2: "nd", 3: "rd"}.get(last_two % 10, "th")
        result = f"{value}{suffix}"
    return _upper_first(result) if capitalize else result


def ordinal(n: Any, capitalize: bool = False, use_word: bool | None = None) -> str:
    """The ordinal for a 0-based index: ``ordinal(0)`` is "first".

    Handy inside loops over lists: ``${ ordinal(i) } child`` with ``i`` from 0.
    Same options as `ordinal_number`, which takes 1-based numbers.

    Example::

        ordinal(0)    # 'first'
        ordinal(1)    # 'second'
        ordinal(10)   # '11th'
    """
    value = _round_number(n)
    if not isinstance(value, int):
        raise ValueError(f"ordinal() needs a whole number, found {n!r}")
    return ordinal_number(value + 1, capitalize=capitalize, use_word=use_word)


def currency(value: Any, decimals: bool = True, symbol: str | None = "$") -> str:
    """Format an amount of money: symbol, thousands separators, two decimals.

    ``decimals=False`` rounds to whole units. Rounding is half up (2.675 -> 2.68).
    Negative amounts get a leading minus sign. ``symbol=None`` means "$".
    A value that is not a number (None, "", "abc") gives "".

    Example::

        currency(1234.5)                  # '$1,234.50'
        currency(1234.5, decimals=False)  # '$1,235'
        currency(-3, symbol='€')          # '-€3.00'
    """
    try:
        amount = _to_decimal(value)
    except ValueError:
        return ""
    places = _CENT if decimals else Decimal(1)
    amount = amount.quantize(places, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    digits = f"{abs(amount):,.2f}" if decimals else f"{abs(amount):,.0f}"
    return f"{sign}{'$' if symbol is None else symbol}{digits}"


# ---------------------------------------------------------------------------
# Nouns
# ---------------------------------------------------------------------------

# Nouns whose plural is the same word (or that have no plural in common use).
_UNCOUNTABLE = frozenset(
    """
    advice aircraft athletics baggage bison cattle chaos clothes clothing corps cosmos data deer
    diabetes economics electronics equipment ethics ethos evidence feedback fish furniture garbage
    genetics gymnastics hardware headquarters herpes homework information jeans jewellery jewelry
    knowledge kudos linguistics logistics luggage mail mathematics means measles media money moose
    mumps news offspring pants pathos physics pliers police politics pumice rabies research rice
    salmon scissors series sheep software spacecraft species staff swine tongs traffic trash
    trousers trout weather wildlife
    """.split()
)

# Irregular plurals matched against the whole word.
_IRREGULAR = {
    "addendum": "addenda",
    "alias": "aliases",
    "alumna": "alumnae",
    "alumnus": "alumni",
    "appendix": "appendices",
    "atlas": "atlases",
    "axis": "axes",
    "bacterium": "bacteria",
    "bias": "biases",
    "cactus": "cacti",
    "canvas": "canvases",
    "corpus": "corpora",
    "crisis": "crises",
    "criterion": "criteria",
    "curriculum": "curricula",
    "czech": "czechs",
    "datum": "data",
    "diagnosis": "diagnoses",
    "die": "dice",
    "epoch": "epochs",
    "erratum": "errata",
    "eunuch": "eunuchs",
    "fungus": "fungi",
    "gas": "gases",
    "genus": "genera",
    "lens": "lenses",
    "life": "lives",
    "loch": "lochs",
    "louse": "lice",
    "matriarch": "matriarchs",
    "matrix": "matrices",
    "memorandum": "memoranda",
    "monarch": "monarchs",
    "mongoose": "mongooses",
    "neurosis": "neuroses",
    "nucleus": "nuclei",
    "oasis": "oases",
    "oligarch": "oligarchs",
    "ox": "oxen",
    "passerby": "passersby",
    "patriarch": "patriarchs",
    "phenomenon": "phenomena",
    "prognosis": "prognoses",
    "psychosis": "psychoses",
    "quiz": "quizzes",
    "radius": "radii",
    "stimulus": "stimuli",
    "stomach": "stomachs",
    "summons": "summonses",
    "syllabus": "syllabi",
    "synopsis": "synopses",
    "tech": "techs",
    "vertex": "vertices",
}

# Irregular endings that also apply inside compounds (grandchild, salesperson, housewife).
_IRREGULAR_SUFFIX = {
    "child": "children",
    "person": "people",
    "woman": "women",
    "man": "men",
    "foot": "feet",
    "tooth": "teeth",
    "goose": "geese",
    "mouse": "mice",
    "wife": "wives",
    "knife": "knives",
    "self": "selves",
    "leaf": "leaves",
    "loaf": "loaves",
    "thief": "thieves",
    "shelf": "shelves",
    "half": "halves",
    "calf": "calves",
    "wolf": "wolves",
    "scarf": "scarves",
    "hoof": "hooves",
    "wharf": "wharves",
    "sheaf": "sheaves",
}
_SUFFIXES_LONGEST_FIRST = sorted(_IRREGULAR_SUFFIX, key=len, reverse=True)
_SUFFIX_SINGULARS = {plural: singular for singular, plural in _IRREGULAR_SUFFIX.items()}
_PLURAL_SUFFIXES_LONGEST_FIRST = sorted(_SUFFIX_SINGULARS, key=len, reverse=True)

# Words that end like a suffix above but inflect regularly.
_MAN_REGULAR = ("human", "german", "shaman", "talisman", "ottoman", "caiman", "cayman", "roman", "walkman",
                "doberman", "dolman", "desman")
_MEN_SINGULAR = frozenset({"omen", "amen", "hymen", "semen", "lumen", "yemen"})
_MEN_SINGULAR_ENDINGS = ("specimen", "abdomen", "regimen", "stamen", "acumen", "bitumen", "albumen",
                         "cyclamen", "dolmen")

# Consonant + o nouns that take -es (everything else takes -s: photos, pianos, memos).
_O_ES = frozenset(
    "buffalo cargo domino echo embargo grotto hero mosquito motto potato tomato torpedo tornado veto volcano"
    .split()
)

# Plural -> singular for the whole-word irregulars, plus plurals that only come up when singularizing.
_IRREGULAR_PLURALS = {plural: singular for singular, plural in _IRREGULAR.items()}
_IRREGULAR_PLURALS.update({"indices": "index", "monies": "money", "moneys": "money"})

# Nouns ending in -ie (their plural -ies must not become -y). The short ones match only
# as whole words ("parties" is not "partie"); the longer ones also end compounds.
_IE_WORDS = frozenset({"die", "lie", "pie", "tie", "bowtie", "magpie", "necktie"})
_IE_ENDINGS = (
    "auntie", "beanie", "birdie", "bootie", "brownie", "calorie", "coterie", "cookie", "freebie",
    "genie", "goalie", "goodie", "hippie", "hoodie", "menagerie", "movie", "nightie", "pixie", "prairie",
    "reverie", "rookie", "rotisserie", "selfie", "smoothie", "sortie", "zombie",
)
# Nouns ending in -che (their plural -ches must keep the e).
_CHE_NOUNS = (
    "headache", "backache", "toothache", "earache", "heartache", "stomachache", "cache", "niche",
    "avalanche", "moustache", "mustache", "psyche", "creche", "quiche", "cliche", "fiche", "attache",
)
# Nouns ending in -use (their plural -uses must keep the e; bus/status/virus drop it).
_USE_ENDINGS = ("ouse", "ause", "excuse", "abuse", "misuse", "disuse", "reuse", "recluse")
_USE_NOUNS = frozenset({"use", "fuse", "muse", "ruse", "refuse"})

_VOWELS = frozenset("aeiou")
_PREPOSITIONS = r"of|in|for|to|on|at|by|with|from|under|about|against"
_PREPOSITION_GAP = re.compile(rf"\s(?:{_PREPOSITIONS})\s", re.IGNORECASE)
_WORD_CHAR = re.compile(r"\w")
_LETTER = re.compile(r"[^\W\d_]")


def _plural_word(word: str) -> str:
    """Pluralize one lower-case singular word."""
    if not word or word in _UNCOUNTABLE:
        return word
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    for suffix in _SUFFIXES_LONGEST_FIRST:
        if word.endswith(suffix):
            if suffix == "man" and word.endswith(_MAN_REGULAR):
                break
            return word[: len(word) - len(suffix)] + _IRREGULAR_SUFFIX[suffix]
    if word in _O_ES:
        return word + "es"
    if word.endswith("sis"):
        return word[:-2] + "es"
    if word.endswith(("s", "x", "z", "sh", "ch")):
        return word + "es"
    if len(word) > 1 and word.endswith("y") and word[-2] not in _VOWELS:
        return word[:-1] + "ies"
    return word + "s"


def _singular_es(word: str) -> str:
    """Singularize a lower-case word ending in -es that no table covered."""
    stem_e, stem = word[:-1], word[:-2]  # "houses" -> "house", "house" -> "hous"
    if word.endswith("ies"):
        return stem_e if stem_e in _IE_WORDS or stem_e.endswith(_IE_ENDINGS) else word[:-3] + "y"
    if word.endswith("oes"):
        return stem if stem in _O_ES else stem_e
    if word.endswith(("sses", "shes", "xes", "zzes", "tzes")):
        return stem
    if word.endswith("ches"):
        return stem_e if stem_e.endswith(_CHE_NOUNS) else stem
    if word.endswith("uses"):
        return stem_e if (stem_e in _USE_NOUNS or stem_e.endswith(_USE_ENDINGS)) else stem
    if word.endswith(("yses", "heses")):
        return stem + "is"  # analyses -> analysis, theses -> thesis
    return stem_e


def _singular_word(word: str) -> str:
    """Singularize one lower-case word; singular words come back unchanged."""
    if len(word) <= 2 or word in _UNCOUNTABLE or word in _IRREGULAR or word in _O_ES:
        return word
    if word in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[word]
    for plural in _PLURAL_SUFFIXES_LONGEST_FIRST:
        if word.endswith(plural):
            if plural == "men" and (word in _MEN_SINGULAR or word.endswith(_MEN_SINGULAR_ENDINGS)):
                return word
            return word[: len(word) - len(plural)] + _SUFFIX_SINGULARS[plural]
    if word.endswith("es"):
        return _singular_es(word)
    if word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("s"):
        return word[:-1]
    return word


def _match_case(model: str, word: str) -> str:
    """Give `word` the capitalization style of `model` (ALL CAPS or Initial Capital)."""
    if len(model) > 1 and model.isupper():
        return word.upper()
    if model[:1].isupper():
        return _upper_first(word)
    return word


def _inflect(noun: str, change: Callable[[str], str]) -> str:
    """Apply `change` (a one-word function) to the head word of a noun phrase.

    The head word is the last word, except in phrases such as "power of attorney"
    or "motion to dismiss" (the word before the preposition) and "mother-in-law".
    """
    text = str(noun)
    head, tail = _head_and_tail(text)
    end = len(head)
    while end and not _WORD_CHAR.match(head[end - 1]):
        end -= 1
    start = end
    while start and _LETTER.match(head[start - 1]):
        start -= 1
    if start == end:
        return text
    original = head[start:end]
    return head[:start] + _match_case(original, change(original.lower())) + head[end:] + tail


def _head_and_tail(text: str) -> tuple[str, str]:
    """`text` split before its first " <preposition> " or a final "-in-law"; (text, "") if neither.

    Found with one linear search each: a single regex with a lazy prefix and `\\s+` around
    the preposition takes quadratic time on a long run of spaces or letters."""
    cuts = []
    preposition = _PREPOSITION_GAP.search(text)
    if preposition is not None:
        cuts.append(len(text[: preposition.start() + 1].rstrip()))
    if text[-len("-in-law"):].lower() == "-in-law":
        cuts.append(len(text) - len("-in-law"))
    if not cuts or not text[: min(cuts)].strip():
        return text, ""
    return text[: min(cuts)], text[min(cuts):]


def _count_value(count: Any) -> Any:
    """A count may be a number or anything with a length (a list, a DAList...)."""
    if count is None or isinstance(count, (int, float, Decimal)):
        return count
    if isinstance(count, str):
        try:
            return float(count)
        except ValueError:
            return count
    if hasattr(count, "__len__"):
        return len(count)
    try:
        return float(count)
    except (TypeError, ValueError):
        return count


def noun_singular(noun: Any, count: Any = None, language: str | None = None) -> str:
    """The singular of an English noun, unless ``count`` says there is not exactly one.

    ``count`` may be a number or a collection (its length is used). When count is
    given and is not 1 the noun is returned unchanged. Singular nouns come back as
    they are. In a phrase the head word changes ("powers of attorney" -> "power of
    attorney"). ``language`` is ignored (English only).

    Example::

        noun_singular('cities')          # 'city'
        noun_singular('children')        # 'child'
        noun_singular('apples', 2)       # 'apples'
        noun_singular('apples', [1])     # 'apple'
    """
    text = str(noun)
    value = _count_value(count)
    if value is not None and value != 1:
        return text
    return _inflect(text, _singular_word)


def noun_plural(
    noun: Any, count: Any = None, noun_is_singular: bool = False, language: str | None = None
) -> str:
    """The plural of an English noun, or its singular when ``count`` is exactly 1.

    ``count`` may be a number or a collection (its length is used). The noun is
    singularized first, so plurals are safe to pass ("apples" stays "apples");
    ``noun_is_singular=True`` skips that step. Irregular nouns (person/people,
    child/children, leaf/leaves) and nouns without a plural (fish, sheep,
    information) are handled. ``language`` is ignored (English only).

    Example::

        noun_plural('time')              # 'times'
        noun_plural('time', 1)           # 'time'
        noun_plural('box', 2)            # 'boxes'
        noun_plural('city', ['a', 'b'])  # 'cities'
        noun_plural('person')            # 'people'
    """
    text = str(noun)
    singular = text if noun_is_singular else _inflect(text, _singular_word)
    if _count_value(count) == 1:
        return singular
    return _inflect(singular, _plural_word)


def quantity_noun(
    num: Any, noun: Any, as_integer: bool = True, capitalize: bool = False, language: str | None = None
) -> str:
    """A number in digits followed by the noun in the matching number.

    With ``as_integer=True`` (the default) the number is rounded to a whole
    number first (half up); otherwise up to two decimals are kept.

    Example::

        quantity_noun(3, 'apple')                      # '3 apples'
        quantity_noun(1, 'child')                      # '1 child'
        quantity_noun(1234, 'person')                  # '1,234 people'
        quantity_noun(2.5, 'hour', as_integer=False)   # '2.5 hours'
    """
    value: int | Decimal = _round_number(num)
    if as_integer and not isinstance(value, int):
        value = int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    result = f"{_grouped(value)} {noun_plural(noun, value)}"
    return _upper_first(result) if capitalize else result


# ---------------------------------------------------------------------------
# Lists
# ---------------------------------------------------------------------------


def _items(pargs: tuple[Any, ...]) -> list[str]:
    """Flatten arguments one level: strings stay whole, other iterables are expanded."""
    items: list[str] = []
    for arg in pargs:
        if isinstance(arg, (str, bytes)) or not isinstance(arg, Iterable):
            items.append(str(arg))
        elif isinstance(arg, (set, frozenset)):
            items.extend(sorted(str(x) for x in arg))  # sets have no order; make the text stable
        elif isinstance(arg, Mapping):
            items.extend(str(x) for x in arg.keys())
        else:
            items.extend(str(x) for x in arg)
    return items


def comma_list(*pargs: Any, comma_string: str = ", ") -> str:
    """Join items with commas, without a final "and".

    Accepts separate items or one (or more) lists, tuples, sets or other iterables.

    Example::

        comma_list('a', 'b', 'c')        # 'a, b, c'
        comma_list(['x', 'y'])           # 'x, y'
    """
    return comma_string.join(_items(pargs))


def comma_and_list(
    *pargs: Any,
    oxford: bool = True,
    and_string: str = "and",
    comma_string: str = ", ",
    before_and: str = " ",
    after_and: str = " ",
) -> str:
    """Join items as English does: "a", "a and b", "a, b, and c".

    Accepts separate items or one (or more) lists, tuples, sets, dicts (their
    keys) or other iterables; each item is converted with ``str()``. Sets are
    sorted so the text does not change between runs. ``oxford=False`` drops the
    comma before "and"; ``and_string`` replaces the word "and".

    Example::

        comma_and_list(['a', 'b', 'c'])                # 'a, b, and c'
        comma_and_list('a', 'b', 'c', oxford=False)    # 'a, b and c'
        comma_and_list(['a', 'b'])                     # 'a and b'
        comma_and_list(['x', 'y'], and_string='or')    # 'x or y'
        comma_and_list([])                             # ''
    """
    items = _items(pargs)
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    conjunction = f"{before_and}{and_string}{after_and}"
    if len(items) == 2:
        return items[0] + conjunction + items[1]
    head = comma_string.join(items[:-1])
    if oxford:
        return head + comma_string.rstrip() + conjunction + items[-1]
    return head + conjunction + items[-1]


# ---------------------------------------------------------------------------
# Strings
# ---------------------------------------------------------------------------

_LINE_BREAKS = re.compile(r"(?:\r\n|\r|\n)+")
_SMALL_TITLE_WORDS = frozenset(
    "a an and as at but by en for if in nor of on or per the to v v. via vs vs. with".split()
)


def capitalize(s: Any) -> str:
    """Upper-case the first character; the rest is left as it is.

    Example::

        capitalize('fred smith')   # 'Fred smith'
        capitalize('iPhone case')  # 'IPhone case'
    """
    return _upper_first(str(s))


def _title_part(part: str, force: bool) -> str:
    """Title-case one word (or one piece of a hyphenated word)."""
    if any(c.isupper() for c in part[1:]):
        return part  # iPhone, NASA, McDonald: leave as written
    if not force and re.sub(r"[^\w.]", "", part.lower()) in _SMALL_TITLE_WORDS:
        return part.lower()
    first = re.search(r"[^\W_]", part)
    if first is None:
        return part
    return part[: first.start()] + part[first.start()].upper() + part[first.start() + 1:]


def title_case(s: Any) -> str:
    """Title Case for headings: capitalize words, keep small words lower-case.

    Small words (a, an, and, of, the, to...) stay lower-case except at the start,
    at the end and after a colon or full stop. Words that already contain capitals
    after their first letter (iPhone, NASA) are left alone; text that is entirely
    upper-case is treated as lower-case first. In hyphenated words the first and
    last pieces are capitalized. This approximates docassemble's ``titlecase``.

    Example::

        title_case('the lord of the rings')   # 'The Lord of the Rings'
        title_case('petition for a divorce')  # 'Petition for a Divorce'
        title_case('mother-in-law')           # 'Mother-in-Law'
    """
    text = str(s)
    if text.isupper():
        text = text.lower()
    pieces = re.split(r"(\s+)", text)
    word_indexes = [i for i, piece in enumerate(pieces) if piece and not piece.isspace()]
    after_stop = True
    for n, index in enumerate(word_indexes):
        word = pieces[index]
        edge = after_stop or n == len(word_indexes) - 1
        parts = word.split("-")
        last = len(parts) - 1
        pieces[index] = "-".join(
            _title_part(part, edge if last == 0 else i in (0, last)) for i, part in enumerate(parts)
        )
        after_stop = word.endswith((":", ".", "?", "!"))
    return "".join(pieces)


def space_to_underscore(s: Any) -> str:
    """Replace each run of whitespace with a single underscore (handy for file names).

    Example::

        space_to_underscore('Jane Q  Doe')   # 'Jane_Q_Doe'
    """
    return re.sub(r"\s+", "_", str(s))


def single_paragraph(s: Any) -> str:
    """Join lines into one paragraph: every line break (and the spaces around it) becomes one space.

    Use it when inserting user-typed text into a sentence or a Markdown list item.

    Example::

        single_paragraph('123 Main St.\\nApt. 4')   # '123 Main St. Apt. 4'
    """
    # Split and strip instead of one regex: `[ \t]*\n` would be retried at every position of a
    # long run of spaces, quadratic in the length of a user's answer.
    pieces = _LINE_BREAKS.split(str(s))
    out = pieces[0] if len(pieces) == 1 else pieces[0].rstrip(" \t")
    for number, piece in enumerate(pieces[1:], start=2):
        last = number == len(pieces)
        piece = piece.lstrip() if last else piece.lstrip().rstrip(" \t")
        if piece or last:
            out += " " + piece
    return out


def indent(text: Any, by: int | None = 4) -> str:
    """Prefix every line (blank lines included) with ``by`` spaces (default 4).

    In Markdown this turns text into a code block or continues a list item: inserted
    with ``${ }``, its line breaks and indentation count (its characters stay text).

    Example::

        indent('a\\nb')        # '    a\\n    b'
        indent('a', by=2)     # '  a'
    """
    prefix = " " * (4 if by is None else int(by))
    return Indented("".join(prefix + line for line in str(text).splitlines(keepends=True)) or prefix)


# ---------------------------------------------------------------------------
# Markup
# ---------------------------------------------------------------------------


def noquote(text: Any) -> Markup:
    """The text escaped for HTML, quotes included, with line breaks as spaces, marked as markup so
    that it is inserted as is (for example inside an HTML attribute the author writes).

    Example::

        noquote('Say "hi" <now>')   # 'Say &quot;hi&quot; &lt;now&gt;'
    """
    return Markup(html.escape(re.sub(r"[\r\n]+", " ", str(text)), quote=True))

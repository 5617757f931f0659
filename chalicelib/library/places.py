"""Countries and their subdivisions (ISO 3166, from the pycountry package).

pycountry is imported on first use: its data loads in a few milliseconds, and
most interviews never ask for it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

__all__ = ["countries_list", "country_name", "get_country", "state_name", "states_list"]

DEFAULT_COUNTRY = "US"


def get_country() -> str:
    """The default country code ("US").

    Example: ``states_list(country_code=get_country())``
    """
    return DEFAULT_COUNTRY


@lru_cache(maxsize=1)
def _countries() -> tuple[tuple[str, str], ...]:
    import pycountry

    return tuple(sorted(((c.alpha_2, c.name) for c in pycountry.countries), key=lambda pair: pair[1]))


def countries_list() -> list[dict[str, str]]:
    """Every country as a one-item dict {code: name}, sorted by name.

    Example: ``code: countries_list()`` as the choices of a dropdown.
    """
    return [{code: name} for code, name in _countries()]


def country_name(country_code: str) -> str:
    """The country's name for its two-letter code; the code itself if it is unknown.

    Example: ``country_name('DE')`` → ``'Germany'``
    """
    return dict(_countries()).get(str(country_code).upper(), str(country_code))


@lru_cache(maxsize=256)
def _states(country_code: str) -> tuple[tuple[str, str], ...]:
    import pycountry

    lookup: Any = pycountry.subdivisions.get  # untyped in pycountry
    found: Any = lookup(country_code=country_code.upper()) or []
    first_level = [s for s in found if not getattr(s, "parent_code", None)]
    pairs = ((s.code.split("-", 1)[1], s.name) for s in first_level)
    return tuple(sorted(pairs, key=lambda pair: pair[1]))


def states_list(country_code: str | None = None, abbreviate: bool = False) -> dict[str, str]:
    """The country's first-level subdivisions as {code: name}, sorted by name; {} if it has none.

    Example: ``states_list(country_code='CA')['QC']`` → ``'Quebec'``
    """
    states = _states(str(country_code or get_country()))
    return {code: (code if abbreviate else name) for code, name in states}


def state_name(state_code: str, country_code: str | None = None) -> str:
    """The subdivision's name; the code itself if it is unknown.

    Example: ``state_name('TX', country_code='US')`` → ``'Texas'``
    """
    return dict(_states(str(country_code or get_country()))).get(str(state_code).upper(), str(state_code))

"""Countries and subdivisions, from ISO 3166 data (pycountry)."""

from __future__ import annotations

from chalicelib.library.places import countries_list, country_name, state_name, states_list


def test_countries_are_one_item_dicts_sorted_by_name() -> None:
    countries = countries_list()
    names = [next(iter(c.values())) for c in countries]
    assert names == sorted(names)
    assert {"DE": "Germany"} in countries and {"US": "United States"} in countries
    assert len(countries) > 240


def test_states_are_first_level_subdivisions_by_code() -> None:
    assert states_list(country_code="US")["TX"] == "Texas"
    assert states_list(country_code="ca")["QC"] == "Quebec"
    assert list(states_list(country_code="US").values()) == sorted(states_list(country_code="US").values())
    assert states_list(country_code="US", abbreviate=True)["TX"] == "TX"
    assert states_list(country_code="VA") == {}


def test_names_fall_back_to_the_code() -> None:
    assert country_name("FR") == "France"
    assert country_name("ZZ") == "ZZ"
    assert state_name("TX", country_code="US") == "Texas"
    assert state_name("QQ", country_code="US") == "QQ"

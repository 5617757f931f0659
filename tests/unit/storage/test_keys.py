"""The server's sub-keys: one per purpose, all different, none equal to the master key."""

from __future__ import annotations

import pytest

from chalicelib.storage.keys import ServerKeys


def test_each_purpose_gets_its_own_key_and_none_is_the_master() -> None:
    master = bytes(range(32))
    keys = ServerKeys.derive(master)
    values = [keys.csrf, keys.sign, keys.wrap, keys.links, keys.outbox, keys.mail]
    assert len(set(values)) == len(values)
    assert master not in values
    assert all(len(v) == 32 for v in values)


def test_the_same_master_gives_the_same_keys_and_another_master_other_keys() -> None:
    assert ServerKeys.derive(b"a" * 32) == ServerKeys.derive(b"a" * 32)
    assert ServerKeys.derive(b"a" * 32).sign != ServerKeys.derive(b"b" * 32).sign


def test_a_short_master_key_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        ServerKeys.derive(b"short")


def test_keys_never_show_in_repr() -> None:
    keys = ServerKeys.derive(b"k" * 32)
    assert repr(keys) == "ServerKeys()"

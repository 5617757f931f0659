"""The effect behaviour suite (effects_behaviour.py) against the in-memory store."""

from __future__ import annotations

import pytest

from chalicelib.storage.memory import MemorySessionStore
from tests.unit.storage.effects_behaviour import EffectStoreBehaviour


class TestMemoryEffects(EffectStoreBehaviour):
    @pytest.fixture
    def store(self) -> MemorySessionStore:
        return MemorySessionStore()

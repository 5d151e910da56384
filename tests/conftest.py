"""Shared test helpers: secret-looking values are generated here at run time, never committed."""

from __future__ import annotations

import random

import pytest

from stormwatch.secrets.ruleset import expand_template

OPENAI_PROJECT = "sk-proj-{{alnum:74}}T3BlbkFJ{{alnum:74}}"


class KeyFactory:
    """Random keys from templates, reproducible per test."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def __call__(self, template: str = OPENAI_PROJECT) -> str:
        return expand_template(template, self.rng)


@pytest.fixture
def make_key(request: pytest.FixtureRequest) -> KeyFactory:
    return KeyFactory(sum(map(ord, request.node.name)))


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Compiled pattern databases go to a temporary folder, not the user's cache."""
    import os

    os.environ["STORMWATCH_CACHE"] = str(tmp_path_factory.mktemp("cache"))

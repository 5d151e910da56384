"""Model prices as data (graph/prices.toml, dated): estimated cost of the calls in a case."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class ModelPrice:
    """List price of one model family (USD per million tokens, or per request for images)."""

    match: str
    input: float = 0.0
    output: float = 0.0
    per_request: float = 0.0


@dataclass(frozen=True)
class PriceTable:
    """All known prices, and the date they were read."""

    as_of: str
    models: tuple[ModelPrice, ...]

    def price_of(self, model: str | None) -> ModelPrice | None:
        """The price whose ``match`` the model id contains (the longest such), if any."""
        if not model:
            return None
        name = model.lower()
        candidates = [p for p in self.models if p.match in name]
        return max(candidates, key=lambda p: len(p.match), default=None)

    def estimate(self, model: str | None, requests: int, tokens_in: int, tokens_out: int) -> float:
        """Estimated USD cost of ``requests`` calls to ``model`` (0 for unknown models)."""
        price = self.price_of(model)
        if price is None:
            return 0.0
        tokens = tokens_in * price.input + tokens_out * price.output
        return tokens / 1e6 + requests * price.per_request


def load_prices() -> PriceTable:
    """The price table shipped with stormwatch."""
    text = (resources.files("stormwatch.graph") / "prices.toml").read_text(encoding="utf-8")
    document = tomllib.loads(text)
    models = tuple(ModelPrice(**entry) for entry in document.get("models", ()))
    return PriceTable(str(document.get("as_of", "")), models)

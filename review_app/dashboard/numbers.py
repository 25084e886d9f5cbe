"""Numbers for a page that shows hundreds of them, formatted as Babel does but quickly.

``formatting.number`` parses its pattern on every call (~0.1 ms); the dashboard shows about
400 numbers, which cost 40 ms of a 160 ms page. Integers and one-decimal figures need only
the locale's group and decimal symbols, read from Babel once per language; the tests check
the result equals ``formatting``'s.
"""

from __future__ import annotations

from functools import cache

from babel.numbers import format_compact_decimal, get_decimal_symbol, get_group_symbol


@cache
def _symbols(language: str) -> tuple[str, str]:
    return get_group_symbol(language), get_decimal_symbol(language)


class Numbers:
    """Formatters bound to one language, for a template."""

    def __init__(self, language: str):
        self.language = language
        self.group, self.decimal = _symbols(language)

    def n(self, value: int | float | None) -> str:
        """12345 -> "12 345" (ru, kk), "12,345" (en); None -> "—"."""
        if value is None:
            return "—"
        return f"{round(value):,}".replace(",", self.group)

    def money(self, value: int | None) -> str:
        """An amount in tenge, as ``formatting.money``: "1 500 000 ₸"."""
        return "—" if value is None else self.n(value) + "\u00a0₸"

    def money_range(self, central: int, low: int, high: int) -> str:
        """An amount with its range, as the requirement page writes one
        (``scm.panel.Format.money``): "360 000 000 ₸ (192 000 000–600 000 000 ₸)"; no
        brackets when low = high."""
        text = self.money(central)
        if (low, high) != (central, central):
            text += f" ({self.n(low)}–{self.money(high)})"
        return text

    def compact_range(self, low: int, high: int) -> str:
        """A headline range: "192 млн – 600 млн ₸"."""
        return f"{self.compact(low)} – {self.compact(high)}\u00a0₸"

    def one(self, value: float) -> str:
        """One decimal, dropped when zero, as Babel writes 2.5 and 2: "2,5", "2"."""
        text = f"{value:,.1f}".replace(",", "\0").replace(".", self.decimal)
        text = text.replace("\0", self.group)
        return text[:-2] if text.endswith(self.decimal + "0") else text

    def pct(self, fraction: float) -> str:
        """0.4567 -> "45,7": always one decimal, as ``formatting.percent``."""
        return f"{round(fraction * 100, 1):.1f}".replace(".", self.decimal)

    def compact(self, value: int | None) -> str:
        """A headline figure: "123,2 млрд" (ru, kk), "123.2B" (en)."""
        if value is None:
            return "—"
        return format_compact_decimal(value, format_type="short", locale=self.language,
                                      fraction_digits=1)

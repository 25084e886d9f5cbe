"""Copies of a requirement text as inventories really hold them: the same paragraph pasted into
another act, renumbered, re-spaced, with a number or the act's name changed.

Used by the demo seed (to plant duplicate clusters) and by the labelled set of
``bench/similarity_quality.py``; pure code.
"""

from __future__ import annotations

import random
import re

_DIGITS = re.compile(r"\b\d+\b")
_NUMBER_WORDS = (("пяти", "трёх"), ("10", "15"), ("5", "7"), ("бес", "үш"), ("отыз", "жиырма"),
                 ("месяц", "квартал"), ("квартал", "год"), ("год", "полугодие"))
_ACT_NOTES_RU = (" Основание: {act}.", " Установлено: {act}.")
_ACT_NOTES_KK = (" Негіздеме: {act}.",)


def exact_copy(text: str, rng: random.Random) -> str:
    """The same text as another act prints it: numbering, spacing, case."""
    numbering = rng.choice(("1) ", "(а) ", "2. ", "12) ", "б) ", ""))
    out = numbering + text
    if rng.random() < 0.5:
        out = out.replace(". ", ".\n", rng.randint(1, 3))
    if rng.random() < 0.4:
        out = re.sub(r" ", "  ", out, count=rng.randint(1, 4))
    if rng.random() < 0.3:
        out = out.upper()
    return out if out != text else "1) " + text


def changed_number(text: str, rng: random.Random) -> str | None:
    """A copy with one number (a term, a period) changed; None when it has none."""
    digits = list(_DIGITS.finditer(text))
    if digits and rng.random() < 0.7:
        m = rng.choice(digits)
        new = str(int(m.group()) + rng.choice((1, 2, 5, 10)))
        return text[:m.start()] + new + text[m.end():]
    options = [(a, b) for a, b in _NUMBER_WORDS if f" {a}" in text]
    if not options:
        return None
    old, new = rng.choice(options)
    return text.replace(f" {old}", f" {new}", 1)


def small_edit(text: str, rng: random.Random) -> str:
    """A copy with one word dropped or one word added."""
    words = text.split(" ")
    position = rng.randrange(1, max(2, len(words)))
    if rng.random() < 0.5 and len(words) > 8:
        del words[position]
    else:
        words.insert(position, rng.choice(("также", "обязательно", "соответственно", "тиісінше")))
    return " ".join(words)


def other_act(text: str, act: str, rng: random.Random, *, kazakh: bool) -> str:
    """A copy that names the act it was pasted into."""
    return text + rng.choice(_ACT_NOTES_KK if kazakh else _ACT_NOTES_RU).format(act=act)


def near_copy(text: str, act: str, rng: random.Random, *, kazakh: bool) -> tuple[str, str]:
    """A near duplicate of ``text`` and which kind of change made it."""
    kind = rng.choice(("number", "edit", "act"))
    if kind == "number":
        changed = changed_number(text, rng)
        if changed is not None and changed != text:
            return changed, kind
        kind = "edit"
    if kind == "edit":
        return small_edit(text, rng), kind
    return other_act(text, act, rng, kazakh=kazakh), kind

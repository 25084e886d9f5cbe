"""How alike two requirement texts are: normalised words, word shingles, and a one-permutation
MinHash signature whose bands index near-duplicates on any database.

Pure code (no Flask, no SQLAlchemy), so the lookup, the grouping job and the benchmark share it.

Why this method: it must run the same on PostgreSQL and SQLite, so nothing database-specific
(pg_trgm) carries it. Word 3-shingles make a changed number or act name cost a few shingles of
dozens, while two texts that merely share a boilerplate sentence keep most shingles apart.
One-permutation hashing (one hash per shingle, the minimum per bin, empty bins filled from
the next one) costs one hash per shingle instead of 64, which keeps 100,000 texts in seconds
in pure Python. 16 bands of 4 bins make pairs above ~0.5 Jaccard candidates; the exact Jaccard
of the candidates' shingles then decides (``bench/similarity_quality.py`` measures it).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

#: Signature bins, and how they are cut into LSH bands.
BINS = 64
BANDS = 16
ROWS = BINS // BANDS  # 4: band_keys takes four values at a time
#: Word shingle length.
SHINGLE = 3
#: Jaccard of shingles from which two requirements are near duplicates (a group, the badge).
DUPLICATE_THRESHOLD = 0.6
#: Jaccard from which a requirement is shown as "similar" beside another.
SIMILAR_THRESHOLD = 0.4

_MASK64 = (1 << 64) - 1
_BIN_SHIFT = 64 - 6  # the top 6 bits of a shingle's hash choose its bin (BINS == 64)

# Paragraph numbering at the start of the text or of a clause: "1)", "1.", "(a)", "а)", "2.1.",
# "пп. 3)", "п. 12", "-", "•".
_NUMBERING = re.compile(
    r"(?:(?<=^)|(?<=[\n;:.]))\s*(?:п{1,2}\.\s*)?(?:\(?[0-9]{1,3}(?:\.[0-9]{1,3})*[.)]|"
    r"\(?[a-zа-яәіңғүұқөһ][.)]|\([0-9a-zа-яәіңғүұқөһ]{1,3}\)|[-–—•·*])(?=\s)",
    re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def normalise(text: str) -> list[str]:
    """The words of ``text`` as compared: case-folded, ё as е, paragraph numbering and
    punctuation gone, whitespace irrelevant."""
    folded = (text or "").casefold().replace("ё", "е")
    return _WORD.findall(_NUMBERING.sub(" ", folded))


def exact_key(text: str) -> str:
    """Equal for texts that differ only in whitespace, case, punctuation and numbering."""
    return hashlib.blake2b(" ".join(normalise(text)).encode(), digest_size=16).hexdigest()


def _hash64(value: str) -> int:
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=8).digest(), "big")


def _mix(x: int) -> int:
    """splitmix64's finaliser: spreads every input bit over all 64 output bits."""
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9 & _MASK64
    x = (x ^ (x >> 27)) * 0x94D049BB133111EB & _MASK64
    return x ^ (x >> 31)


#: Word -> 64-bit hash. Words repeat across shingles and texts (a register's vocabulary is
#: tens of thousands of words), so each is hashed once: fingerprinting 100,000 texts with a
#: cryptographic hash per shingle took 2.1 M hash calls, most of the grouping's time.
_WORD_HASHES: dict[str, int] = {}
_WORD_CACHE_LIMIT = 500_000


def _word_hash(word: str) -> int:
    h = _WORD_HASHES.get(word)
    if h is None:
        if len(_WORD_HASHES) >= _WORD_CACHE_LIMIT:
            _WORD_HASHES.clear()
        h = _WORD_HASHES[word] = _hash64(word)
    return h


def shingle_hashes(words: list[str]) -> set[int]:
    """The 64-bit hashes of the word ``SHINGLE``-grams (the whole text as one when shorter);
    stable across processes and databases, so they can be stored and compared."""
    if not words:
        return set()
    hashes = [_word_hash(w) for w in words]
    if len(hashes) < SHINGLE:
        hashes += [0] * (SHINGLE - len(hashes))
    return {_mix((a * 0x9E3779B97F4A7C15 + b * 0xC2B2AE3D27D4EB4F + c) & _MASK64)
            for a, b, c in zip(hashes, hashes[1:], hashes[2:], strict=False)}


def signature_of_hashes(hashes: Iterable[int]) -> list[int]:
    """:func:`signature` from the shingles' 64-bit hashes."""
    bins: list[int | None] = [None] * BINS
    for h in hashes:
        b = h >> _BIN_SHIFT
        low = h & ((1 << _BIN_SHIFT) - 1)
        current = bins[b]
        if current is None or low < current:
            bins[b] = low
    filled = [i for i, v in enumerate(bins) if v is not None]
    if not filled:
        return [0] * BINS
    # Densify: an empty bin takes the next filled bin's value (cyclically), offset by the
    # distance, so that equal sets stay equal and empty bins do not all collide.
    out = [0] * BINS
    for i in range(BINS):
        j, distance = i, 0
        while bins[j] is None:
            j = (j + 1) % BINS
            distance += 1
        out[i] = (bins[j] + distance * 0x9E3779B97F4A7C15) & _MASK64
    return out


def band_keys(sig: list[int]) -> list[int]:
    """One bucket key per band, a non-negative 63-bit integer (fits BIGINT everywhere)."""
    keys = []
    for band in range(BANDS):
        a, b, c, d = sig[band * ROWS:(band + 1) * ROWS]
        keys.append(_mix((band * 0xD6E8FEB86659FD93 + a * 0x9E3779B97F4A7C15
                          + b * 0xC2B2AE3D27D4EB4F + c * 0x165667B19E3779F9
                          + d) & _MASK64) >> 1)
    return keys


def jaccard(a: set, b: set) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def estimate(sig_a: list[int] | bytes, sig_b: list[int] | bytes) -> float:
    """Jaccard estimated from two signatures (the share of equal bins)."""
    if isinstance(sig_a, bytes):
        sig_a, sig_b = unpack(sig_a), unpack(sig_b)  # type: ignore[arg-type]
    return sum(1 for x, y in zip(sig_a, sig_b, strict=True) if x == y) / BINS


#: Bit 0 of each 16-bit lane of :func:`lanes`.
_LANE_LOW = sum(1 << (16 * i) for i in range(BINS))


def lanes(sig: list[int]) -> int:
    """The signature as one integer, 16 bits per bin, for :func:`equal_bins`."""
    value = 0
    for v in reversed(sig):
        value = (value << 16) | (v & 0xFFFF)
    return value


def equal_bins(a: int, b: int) -> int:
    """How many bins two :func:`lanes` integers share (a 16-bit coincidence, 1 in 65,536, counts
    too). A few big-integer operations instead of 64 Python comparisons: grouping 10,000
    demo requirements went from 8.9 s to 2.4 s."""
    x = a ^ b
    x |= x >> 1
    x |= x >> 2
    x |= x >> 4
    x |= x >> 8
    return BINS - (x & _LANE_LOW).bit_count()


def pack(sig: list[int]) -> bytes:
    return b"".join(v.to_bytes(8, "big") for v in sig)


def unpack(data: bytes) -> list[int]:
    return [int.from_bytes(data[i:i + 8], "big") for i in range(0, len(data), 8)]


class Fingerprint:
    """Everything the index stores about one text."""

    __slots__ = ("exact", "words", "hashes", "signature", "bands")

    def __init__(self, text: str):
        self.words = normalise(text)
        self.exact = hashlib.blake2b(" ".join(self.words).encode(), digest_size=16).hexdigest()
        #: The shingles' 64-bit hashes: what the lookup and the grouping compare exactly.
        self.hashes = shingle_hashes(self.words)
        self.signature = signature_of_hashes(self.hashes)
        self.bands = band_keys(self.signature)


def similarity(text_a: str, text_b: str) -> float:
    """1.0 for exact duplicates (after normalising), else the Jaccard of word shingles."""
    words_a, words_b = normalise(text_a), normalise(text_b)
    if words_a == words_b:
        return 1.0
    return jaccard(shingle_hashes(words_a), shingle_hashes(words_b))

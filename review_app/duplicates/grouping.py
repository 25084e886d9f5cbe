"""Duplicate groups of a whole register, from a stream of texts, in bounded memory.

Pure code (no Flask, no database): ``workers.duplicates`` feeds it the requirements and stores
what it returns; ``bench/duplicates_bench.py`` times it. Per requirement it keeps a signature
(512 bytes in one array) and its 16 band keys (in 16 arrays), nothing else: 100,000
requirements need ~70 MB.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from review_app.duplicates import similarity as sim

#: In one LSH bucket, each member is compared with at most this many neighbours on each side:
#: a bucket of hundreds of boilerplate-sharing texts must not cost a quadratic number of
#: comparisons.
BUCKET_COMPARISONS = 4
#: And with at most this many group leaders over all bands. Without the cap, grouping the
#: demo's 100,000 templated texts took 200 s (most of it comparing texts that share clauses).
MAX_COMPARISONS = 24


@dataclass
class Grouped:
    #: Each group: requirement ids (two or more), and whether all texts are exactly alike.
    groups: list[tuple[list[int], bool]]
    requirement_count: int


class _UnionFind:
    def __init__(self) -> None:
        self.parent = array("i")

    def add(self) -> int:
        self.parent.append(len(self.parent))
        return len(self.parent) - 1

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def group_texts(texts: Iterable[tuple[int, str]], *,
                on_bands: Callable[[list[tuple[int, list[int]]]], None] | None = None,
                progress: Callable[[int], None] | None = None, chunk: int = 2_000) -> Grouped:
    """Group ``(id, text)`` pairs into duplicates (same normalised text, or estimated Jaccard
    at least :data:`similarity.DUPLICATE_THRESHOLD`).

    ``on_bands`` receives each chunk's ``(id, band keys)`` (to store the lookup index) and
    ``progress`` the number of texts read so far.
    """
    ids = array("q")
    signatures: list[int] = []
    #: Every text's shingle hashes, one after another; ``starts[i]`` is where text i's begin.
    shingle_hashes = array("Q")
    starts = array("q", [0])
    bands = [array("q") for _ in range(sim.BANDS)]
    #: Whether the index is the first of its exact text (only those go through LSH).
    first_of_text = bytearray()
    exact_first: dict[bytes, int] = {}
    sets = _UnionFind()
    pending: list[tuple[int, list[int]]] = []
    for req_id, text in texts:
        fp = sim.Fingerprint(text)
        index = sets.add()
        ids.append(req_id)
        signatures.append(sim.lanes(fp.signature))
        shingle_hashes.extend(sorted(fp.hashes))
        starts.append(len(shingle_hashes))
        for band, key in enumerate(fp.bands):
            bands[band].append(key)
        key = bytes.fromhex(fp.exact)
        first = exact_first.setdefault(key, index)
        first_of_text.append(first == index)
        if first != index:
            sets.union(first, index)
        pending.append((req_id, fp.bands))
        if len(pending) >= chunk:
            _flush(pending, on_bands, progress, len(ids))
    _flush(pending, on_bands, progress, len(ids))
    exact_first.clear()

    # The signature's estimate is a cheap first filter (its error is ~0.06 at 64 bins); the
    # exact Jaccard of the shingle hashes decides. On the demo data the estimate alone put
    # requirements that share four boilerplate clauses (exact Jaccard 0.56) in one group.
    roughly = (sim.DUPLICATE_THRESHOLD - 0.1) * sim.BINS

    def close(a: int, b: int) -> bool:
        if sim.equal_bins(signatures[a], signatures[b]) < roughly:
            return False
        mine = set(shingle_hashes[starts[a]:starts[a + 1]])
        theirs = shingle_hashes[starts[b]:starts[b + 1]]
        common = sum(1 for h in theirs if h in mine)
        union = len(mine) + len(theirs) - common
        return union > 0 and common / union >= sim.DUPLICATE_THRESHOLD

    # Groups form around a leader: a text joins a group only while it is alone (with its exact
    # copies) and close to the group's leader. Joining any close member instead (single
    # linkage) chained 2,773 of the demo's 10,000 templated texts into one group.
    alone = bytearray(first_of_text)
    compared = bytearray(len(ids))
    for band in range(sim.BANDS):
        buckets: dict[int, list[int]] = {}
        keys = bands[band]
        for index in range(len(ids)):
            if first_of_text[index]:
                buckets.setdefault(keys[index], []).append(index)
        for members in buckets.values():
            if len(members) < 2:
                continue
            for position, index in enumerate(members):
                if not alone[index] or compared[index] >= MAX_COMPARISONS:
                    continue
                window = (members[max(0, position - BUCKET_COMPARISONS):position]
                          + members[position + 1:position + 1 + BUCKET_COMPARISONS])
                for leader in dict.fromkeys(sets.find(other) for other in window):
                    if leader == index:
                        continue
                    compared[index] += 1
                    if close(index, leader):
                        sets.parent[index] = leader
                        alone[index] = alone[leader] = 0
                        break
                    if compared[index] >= MAX_COMPARISONS:
                        break
        del buckets  # before the next band's is built
    components: dict[int, list[int]] = {}
    for index in range(len(ids)):
        components.setdefault(sets.find(index), []).append(index)
    groups = []
    for members in components.values():
        if len(members) > 1:
            # Exact when one distinct text: every other member is a copy of the first.
            exact = sum(first_of_text[m] for m in members) == 1
            groups.append(([ids[m] for m in members], exact))
    return Grouped(groups=groups, requirement_count=len(ids))


def _flush(pending: list[tuple[int, list[int]]], on_bands, progress, done: int) -> None:
    if pending and on_bands is not None:
        on_bands(list(pending))
    pending.clear()
    if progress is not None:
        progress(done)


def band_rows(pairs: Iterable[tuple[int, list[int]]]) -> Iterator[tuple[int, int, int]]:
    """``(band, bucket, requirement_id)`` rows of the lookup index."""
    for req_id, keys in pairs:
        for band, key in enumerate(keys):
            yield band, key, req_id

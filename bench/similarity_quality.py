"""Precision and recall of the duplicate detection on a labelled set built from demo wording.

    .venv/bin/python bench/similarity_quality.py [--seed 7] [--sources 800]

The labelled set (Russian and Kazakh, written by the demo's generator from
``review_app/demo_data/*.toml``):

- positives, exact copies: the same text renumbered ("1)", "(а)"), re-spaced, upper-cased;
- positives, near copies: one number changed, one word dropped or added, the act's name added;
- negatives, shared boilerplate: two different requirements (different first, operative,
  sentence) that share one standard clause ("Ответственность ... возлагается на первого
  руководителя ..."), or two and more of them (the hardest case);
- negatives, random: two different requirements.

Pairs with the same operative sentence but different clauses are left out: whether they are
"the same requirement" is a judgement a person makes, not a label.

For each threshold it reports precision and recall of "duplicate" (similarity >= threshold),
and the share of positives the LSH index finds as candidates (what the lookup can show at all).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from review_app import demo  # noqa: E402
from review_app.duplicates import grouping, variants  # noqa: E402
from review_app.duplicates import similarity as sim  # noqa: E402

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def sources(rng: random.Random, count: int) -> list[tuple[str, bool, str]]:
    """``count`` distinct demo texts: (text, kazakh?, an act of its area)."""
    writer = demo._Writer(rng)
    seen, out = set(), []
    while len(out) < count:
        area = rng.choice(demo.AREAS)
        kazakh = rng.random() < 0.25
        if kazakh:
            _title, text = writer.kazakh(area, safety=rng.random() < 0.2)
        else:
            _title, text = writer.russian(area, with_note=rng.random() < 0.3)
        key = sim.exact_key(text)
        if key not in seen:
            seen.add(key)
            out.append((text, kazakh, rng.choice(area.orders)))
    return out


def labelled(rng: random.Random, count: int) -> list[tuple[str, str, bool, str]]:
    """``(text a, text b, duplicate?, kind)`` pairs."""
    texts = sources(rng, count)
    pairs: list[tuple[str, str, bool, str]] = []
    for text, kazakh, act in texts[: count // 2]:
        pairs.append((text, variants.exact_copy(text, rng), True, "exact copy"))
        near, kind = variants.near_copy(text, act, rng, kazakh=kazakh)
        pairs.append((text, near, True, f"near copy ({kind})"))
    split = [(_SENTENCE.split(t), t) for t, _k, _a in texts]
    boiler, heavy = [], []
    for _ in range(400_000):
        (sa_, a), (sb, b) = rng.sample(split, 2)
        shared = len(set(sa_[1:]) & set(sb[1:]))
        if sa_[0] != sb[0] and shared == 1 and len(boiler) < count:
            boiler.append((a, b, False, "different, one shared clause"))
        elif sa_[0] != sb[0] and shared >= 2 and len(heavy) < count // 2:
            heavy.append((a, b, False, "different, 2+ shared clauses"))
        if len(boiler) >= count and len(heavy) >= count // 2:
            break
    pairs += boiler + heavy
    for _ in range(count // 2):
        (sa_, a), (sb, b) = rng.sample(split, 2)
        if sa_[0] != sb[0]:
            pairs.append((a, b, False, "different, random"))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sources", type=int, default=800)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    pairs = labelled(rng, args.sources)
    scored = []
    grouped = []
    for a, b, label, kind in pairs:
        fa, fb = sim.Fingerprint(a), sim.Fingerprint(b)
        candidate = any(x == y for x, y in zip(fa.bands, fb.bands, strict=True))
        scored.append((sim.similarity(a, b), candidate, label, kind))
        together = bool(grouping.group_texts([(1, a), (2, b)]).groups)
        grouped.append((together, label, kind))
    kinds = sorted({k for *_r, k in scored})
    print(f"labelled pairs: {len(scored)} "
          + ", ".join(f"{k}: {sum(1 for *_r, kk in scored if kk == k)}" for k in kinds))
    positives = [s for s in scored if s[2]]
    found = sum(1 for s in positives if s[1])
    print(f"LSH candidates: {found}/{len(positives)} positives "
          f"({100 * found / len(positives):.1f} %) share a band")
    print("threshold  precision  recall   (duplicate = similarity >= threshold)")
    for threshold in (0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        tp = sum(1 for s, _c, label, _k in scored if label and s >= threshold)
        fp = sum(1 for s, _c, label, _k in scored if not label and s >= threshold)
        fn = sum(1 for s, _c, label, _k in scored if label and s < threshold)
        mark = "  <- groups" if threshold == sim.DUPLICATE_THRESHOLD else (
            "  <- shown as similar" if threshold == sim.SIMILAR_THRESHOLD else "")
        print(f"  {threshold:.1f}      {tp / max(1, tp + fp):.3f}     "
              f"{tp / max(1, tp + fn):.3f}{mark}")
    print("per kind: at or above the group threshold (exact Jaccard), and put in one group by "
          "the grouping job's pipeline (LSH, signature estimate, exact check):")
    for kind in kinds:
        rows = [s for s in scored if s[3] == kind]
        hit = sum(1 for s in rows if s[0] >= sim.DUPLICATE_THRESHOLD)
        together = sum(1 for g, _label, k in grouped if k == kind and g)
        print(f"  {kind:34s} {hit:4d}/{len(rows)}   grouped {together:4d}/{len(rows)}")
    tp = sum(1 for g, label, _k in grouped if g and label)
    fp = sum(1 for g, label, _k in grouped if g and not label)
    fn = sum(1 for g, label, _k in grouped if not g and label)
    print(f"grouping pipeline: precision {tp / max(1, tp + fp):.3f}, "
          f"recall {tp / max(1, tp + fn):.3f}")


if __name__ == "__main__":
    main()

"""Near-duplicate names in near-linear time: an index finds the candidate pairs.

``hpreg lint`` reports two names as near-duplicates when they differ like a typo
(``hpreg.lint.looks_like_typo``): equal up to letter case, one edit apart
(``learning_rate`` / ``learning_rte``, ``lr`` / ``lrr``, a swapped pair of letters),
or, for a long word, two edits apart inside that one word. Comparing every pair is
quadratic (20,000 names: 200 million comparisons), so candidates come from
*deletion neighbourhoods* (the symmetric-delete index of spelling correctors):

- two strings one edit apart (insert, delete, replace, swap two neighbours) share a
  string made by deleting at most one character from each;
- two words at most two edits apart share one made by deleting at most two.

Each name is filed under itself and its one-character deletions, and each word of
ten characters or more under its deletions of up to two characters (with the rest
of the name around it); names filed under the same key are candidates, which the
acceptance rule then checks. Names that are equal once their numbers are dropped
(``layer1`` / ``layer2``) are never candidates: the rule refuses them anyway, and a
numbered family would otherwise fill a key with many names.
"""

import collections
import itertools
import re
from typing import Callable, Dict, List, Sequence, Set, Tuple

_NUMBERS = re.compile(r"[._]?\d+")
_WORDS = re.compile(r"([._])")
LONG_WORD = 10  # two words this long may be two typos apart


def near_duplicate_pairs(
    names: Sequence[str], accept: Callable[[str, str], bool]
) -> List[Tuple[int, int]]:
    """Every ``(i, j)``, ``i < j``, with ``accept(names[i], names[j])``, sorted.

    The same pairs as testing every pair with ``accept``, for any rule that accepts
    only names equal up to case, one edit apart, or two edits apart in one long word
    (as ``hpreg.lint.looks_like_typo`` does). ``accept`` is asked in name order.
    """
    numberless = [_NUMBERS.sub("", name) for name in names]
    candidates: Set[Tuple[int, int]] = set()
    by_case: Dict[str, List[int]] = {}
    for i, name in enumerate(names):
        by_case.setdefault(name.lower(), []).append(i)
    for members in by_case.values():
        candidates.update(itertools.combinations(members, 2))
    buckets: Dict[object, List[int]] = collections.defaultdict(list)
    for i, name in enumerate(names):
        for key in _keys(name):
            buckets[key].append(i)
    for members in buckets.values():
        if len(members) < 2:
            continue
        # a numbered family (layer1, layer2...) shares keys but is never a pair
        families: Dict[str, List[int]] = {}
        for i in members:
            families.setdefault(numberless[i], []).append(i)
        if len(families) < 2:
            continue
        groups = list(families.values())
        for a, b in itertools.combinations(range(len(groups)), 2):
            for i in groups[a]:
                for j in groups[b]:
                    candidates.add((i, j) if i < j else (j, i))
    return sorted(
        (i, j) for i, j in candidates if i != j and accept(names[i], names[j])
    )


def _keys(name: str) -> list:
    """The keys ``name`` is filed under: itself and its one-character deletions
    (strings), and for each long word its deletions in the name (tuples)."""
    keys = [name]
    keys += [name[:k] + name[k + 1 :] for k in range(len(name))]
    parts = _WORDS.split(name)  # words at even positions, separators between
    for w in range(0, len(parts), 2):
        word = parts[w]
        if len(word) < LONG_WORD:
            continue
        before, after = "".join(parts[:w]), "".join(parts[w + 1 :])
        keys += [(before, variant, after) for variant in _deletions(word, 2)]
    return keys


def _deletions(word: str, depth: int) -> Set[str]:
    """``word`` and every string made by deleting up to ``depth`` of its characters."""
    found = {word}
    layer = {word}
    for _ in range(depth):
        layer = {w[:k] + w[k + 1 :] for w in layer for k in range(len(w))}
        found |= layer
    return found

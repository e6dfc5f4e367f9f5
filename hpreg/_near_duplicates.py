"""Near-duplicate names in near-linear time: an index finds the candidate pairs.

``hpreg lint`` reports two names as near-duplicates when ``looks_like_typo`` accepts
them. Comparing every pair is quadratic (5,000 names: 12 million comparisons), so
``near_duplicate_pairs`` only hands the acceptance rule the pairs that could pass it,
and never leaves out one that does. What any accepted pair must have:

- the same name up to letter case (always accepted), or
- a different name once numbers are dropped (``layer1``/``layer2`` never count), and
  ``SequenceMatcher(None, a, b).ratio() >= 0.8``: its matching blocks cover
  ``M >= 2L/5`` characters of the two names, ``L = len(a) + len(b)``.

The second case bounds the lengths (``M <= min(len)`` gives ``3 min >= 2 max``) and
the shared bigrams: the ``B`` matching blocks hold ``M - B`` bigrams found in both
names, and two blocks are separated by at least one unmatched character, so ``B - 1
<= L - 2M`` and the names share at least ``3M - L - 1 >= 3 ceil(2L/5) - L - 1``
bigrams (counted with repeats). That count is at least 1 once both names have 4
characters or more; such pairs are found by a prefix-filtered inverted index of the
bigrams (the "all pairs" similarity join: names sharing ``t`` of their tokens share
one of the ``len - t + 1`` rarest). Shorter names need ``M = len(short)``: the short
name is the longer one with one character deleted, found through a table of the
names of three characters or fewer.
"""

import operator
import re
from typing import Callable, Dict, List, Sequence, Set, Tuple

# the same rule as hpreg.lint.looks_like_typo: names equal without their numbers
# (``layer1`` / ``layer2``) are numbered, not misspelt
_NUMBERS = re.compile(r"[._]?\d+")
_WORDS = re.compile(r"[._]")
_SHORT = 3  # names this long or shorter share no bigram guarantee


def near_duplicate_pairs(
    names: Sequence[str], accept: Callable[[str, str], bool]
) -> List[Tuple[int, int]]:
    """Every ``(i, j)``, ``i < j``, with ``accept(names[i], names[j])``, sorted.

    The same pairs as testing every pair with ``accept``, for the acceptance rule of
    ``hpreg.lint.looks_like_typo`` (or any rule that accepts no more than it does).
    """
    candidates: Set[Tuple[int, int]] = set()
    _case_variants(names, candidates)
    _short_names(names, candidates)
    _indexed(names, candidates)
    return sorted(
        (i, j) for i, j in candidates if i != j and accept(names[i], names[j])
    )


def _pair(i: int, j: int) -> Tuple[int, int]:
    return (i, j) if i < j else (j, i)


def _case_variants(names: Sequence[str], out: Set[Tuple[int, int]]) -> None:
    by_lower: Dict[str, List[int]] = {}
    for i, name in enumerate(names):
        by_lower.setdefault(name.lower(), []).append(i)
    for group in by_lower.values():
        for k, i in enumerate(group):
            for j in group[k + 1 :]:
                out.add((i, j))


def _short_names(names: Sequence[str], out: Set[Tuple[int, int]]) -> None:
    # len(a) <= 3 passes the ratio only against len(a) + 1 with M = len(a): ``a`` is
    # ``b`` with one character deleted (both of 3 or fewer: equal, or 2 and 3)
    short: Dict[str, List[int]] = {}
    for i, name in enumerate(names):
        if len(name) <= _SHORT:
            short.setdefault(name, []).append(i)
    if not short:
        return
    for j, name in enumerate(names):
        if not 2 <= len(name) <= _SHORT + 1:
            continue
        for k in range(len(name)):
            for i in short.get(name[:k] + name[k + 1 :], ()):
                out.add(_pair(i, j))


def _required(total: int) -> int:
    """Bigrams two names of ``total`` characters share when their ratio is >= 0.8."""
    return 3 * ((2 * total + 4) // 5) - total - 1


def _partner_lengths(length: int) -> range:
    low = max(_SHORT + 1, -(-2 * length // 3))
    return range(low, 3 * length // 2 + 1)


def _indexed(names: Sequence[str], out: Set[Tuple[int, int]]) -> None:
    ids: Dict[Tuple[str, int], int] = {}
    tokens: Dict[int, List[int]] = {}
    for i, name in enumerate(names):
        if len(name) <= _SHORT:
            continue
        seen: Dict[str, int] = {}
        row = []
        for k in range(len(name) - 1):
            gram = name[k : k + 2]
            nth = seen[gram] = seen.get(gram, 0) + 1
            row.append(ids.setdefault((gram, nth), len(ids)))
        tokens[i] = row
    if len(tokens) < 2:
        return
    frequency = [0] * len(ids)
    for row in tokens.values():
        for token in row:
            frequency[token] += 1
    rank = sorted(range(len(ids)), key=lambda t: (frequency[t], t))
    order = [0] * len(ids)
    for position, token in enumerate(rank):
        order[token] = position

    least: Dict[int, int] = {}  # name length -> fewest shared bigrams a partner needs
    groups: Dict[str, int] = {}
    # token -> numberless group -> names whose prefix holds the token; pairs in one
    # group are never near-duplicates (unless equal but for case: found above)
    index: Dict[int, Dict[int, List[int]]] = {}
    sets: Dict[int, frozenset] = {}
    split: Dict[int, List[str]] = {}
    chars: Dict[int, frozenset] = {}
    for i, row in tokens.items():
        name = names[i]
        length = len(name)
        need = least.get(length)
        if need is None:
            need = least[length] = min(
                (_required(length + other) for other in _partner_lengths(length)),
                default=len(row) + 1,
            )
        group = groups.setdefault(_NUMBERS.sub("", name), len(groups))
        row = sorted(order[t] for t in row)
        prefix = row[: len(row) - need + 1]
        full = sets[i] = frozenset(row)
        found: Set[int] = set()
        for token in prefix:
            postings = index.get(token)
            if postings is None:
                index[token] = {group: [i]}
                continue
            for other_group, members in postings.items():
                if other_group != group:
                    found.update(members)
            postings.setdefault(group, []).append(i)
        words = split[i] = _WORDS.split(name)
        letters = chars[i] = _numbered(name)
        for j in found:
            other = len(names[j])
            if 3 * min(length, other) < 2 * max(length, other):
                continue
            if 5 * len(letters & chars[j]) < 2 * (length + other):
                continue  # M <= the letters they share, counted with repeats
            if len(full & sets[j]) < _required(length + other):
                continue
            if _one_word_too_far(words, split[j]):
                continue
            out.add(_pair(i, j))


def _numbered(name: str) -> frozenset:
    """The letters of a name, the n-th repeat of a letter as ``(letter, n)``."""
    seen: Dict[str, int] = {}
    out = []
    for letter in name:
        nth = seen[letter] = seen.get(letter, 0) + 1
        out.append((letter, nth))
    return frozenset(out)


def _one_word_too_far(first: List[str], second: List[str]) -> bool:
    """Whether the names differ in one word only, and by more edits than a typo
    makes (the rule rejects such pairs: ``model.width`` / ``model.depth``)."""
    if len(first) != len(second) or sum(map(operator.ne, first, second)) != 1:
        return False
    a, b = next((x, y) for x, y in zip(first, second) if x != y)
    if min(len(a), len(b)) >= 10:
        return abs(len(a) - len(b)) > 2
    return not _one_edit(a, b)


def _one_edit(a: str, b: str) -> bool:
    """One insertion, deletion, replacement or swap of neighbours turns a into b."""
    if abs(len(a) - len(b)) > 1:
        return False
    k = 0
    while k < len(a) and k < len(b) and a[k] == b[k]:
        k += 1
    if k == len(a) == len(b):
        return True
    return (
        a[k + 1 :] == b[k + 1 :]
        or a[k + 1 :] == b[k:]
        or a[k:] == b[k + 1 :]
        or (a[k : k + 2] == b[k : k + 2][::-1] and a[k + 2 :] == b[k + 2 :])
    )

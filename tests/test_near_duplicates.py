"""The indexed near-duplicate finder reports exactly the pairs that comparing every
pair with ``looks_like_typo`` reports (the brute-force reference lives here)."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpreg.lint.near_duplicates import near_duplicate_pairs
from hpreg.lint import looks_like_typo

PROPERTIES = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# few letters, case, separators and digits: close names are common
ALPHABET = "abeAE_.12"
WORDS = ["learning_rate", "lr", "lr_min", "model.width", "d_model", "beta1", "Ab"]


def brute_force(names):
    return [
        (i, j)
        for i in range(len(names))
        for j in range(i + 1, len(names))
        if looks_like_typo(names[i], names[j])
    ]


@st.composite
def mutated(draw, base):
    """``base`` with a few typos: deletions, insertions, swaps, case, numbers."""
    name = draw(base)
    for _ in range(draw(st.integers(0, 3))):
        edit = draw(st.sampled_from(["delete", "insert", "swap", "case", "number"]))
        at = draw(st.integers(0, max(len(name) - 1, 0)))
        if edit == "delete" and name:
            name = name[:at] + name[at + 1 :]
        elif edit == "insert":
            name = name[:at] + draw(st.sampled_from(ALPHABET)) + name[at:]
        elif edit == "swap" and len(name) > at + 1:
            name = name[:at] + name[at + 1] + name[at] + name[at + 2 :]
        elif edit == "case":
            name = name.swapcase()
        elif edit == "number":
            name += draw(st.sampled_from(["1", "_2", ".3", "10"]))
    return name


NAME = st.one_of(
    st.text(ALPHABET, max_size=14),
    mutated(st.sampled_from(WORDS)),
    mutated(st.text(ALPHABET, min_size=3, max_size=24)),
)


@st.composite
def name_sets(draw):
    """Distinct names, many of them variants of each other."""
    seeds = draw(st.lists(NAME, min_size=1, max_size=8))
    names = list(seeds)
    for _ in range(draw(st.integers(0, 24))):
        names.append(draw(mutated(st.sampled_from(names))))
    return list(dict.fromkeys(names))


class TestIndexedFinder:
    @PROPERTIES
    @given(name_sets())
    def test_same_pairs_as_comparing_every_pair(self, names):
        assert near_duplicate_pairs(names, looks_like_typo) == brute_force(names)

    @PROPERTIES
    @given(st.lists(st.text(max_size=10), max_size=12, unique=True))
    def test_any_unicode_names(self, names):
        assert near_duplicate_pairs(names, looks_like_typo) == brute_force(names)

    def test_finds_typos_among_numbered_names(self):
        names = ["hp_{}".format(i) for i in range(300)]
        names += ["learning_rate", "Dropout", "lr", "dropout", "learning_rte", "lrr"]
        pairs = near_duplicate_pairs(names, looks_like_typo)
        assert [(names[i], names[j]) for i, j in pairs] == [
            ("learning_rate", "learning_rte"),
            ("Dropout", "dropout"),
            ("lr", "lrr"),
        ]
        assert pairs == brute_force(names)

    def test_names_differing_by_a_number_are_not_pairs(self):
        names = ["layer{}".format(i) for i in range(50)] + ["beta1", "beta2", "lr"]
        assert near_duplicate_pairs(names, looks_like_typo) == []

    def test_asks_the_rule_in_name_order(self):
        asked = []

        def accept(first, second):
            asked.append((first, second))
            return True

        names = ["width", "depth", "widht"]
        pairs = near_duplicate_pairs(names, accept)
        assert (0, 2) in pairs
        assert ("width", "widht") in asked and ("widht", "width") not in asked
        assert all(names.index(a) < names.index(b) for a, b in asked)


def test_two_typos_in_one_long_word_are_found_at_every_length():
    names = [
        "optim.regularisation",  # 14-letter word
        "optim.regulrisaton",  # two deletions
        "model.embeddings",  # 10 letters
        "model.embedings.x",  # another shape: not the same words
        "model.embdings",  # 8 letters: two edits only between two long words
        "model.embedding",  # one deletion
        "data.augmentations",
        "data.augmnetatons",  # a swap and a deletion in an 13-letter word
    ]
    pairs = near_duplicate_pairs(names, looks_like_typo)
    assert pairs == brute_force(names)
    found = {(names[i], names[j]) for i, j in pairs}
    assert ("optim.regularisation", "optim.regulrisaton") in found
    assert ("data.augmentations", "data.augmnetatons") in found
    assert ("model.embeddings", "model.embdings") not in found

"""``hpreg.lint``: every kind of problem, located, one ``file:line[:col]: message``
each; ``# hpreg: ignore`` silences a line; near-duplicate names told from whole-word
pairs."""

import os
import re
import textwrap

import pytest

from conftest import EXAMPLES
from hpreg.lint import LintProblem, lint_paths, looks_like_typo

LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+)(:(?P<col>\d+))?: (?P<message>.+)$")


@pytest.fixture(name="lint")
def fixture_lint(tree, monkeypatch):
    """Lint files written with ``tree``, from inside that folder (relative paths)."""

    def run(files):
        root = tree({name: textwrap.dedent(text) for name, text in files.items()})
        monkeypatch.chdir(root)
        return lint_paths(["."])

    return run


def kinds(problems):
    return [(p.kind, os.path.basename(p.filename), p.lineno, p.col) for p in problems]


class TestProblemKinds:
    def test_second_default(self, lint):
        problems = lint(
            {
                "a.py": """\
                    from hpreg.m import _
                    lr = _("lr", 0.1)
                    """,
                "b.py": """\
                    from hpreg.m import _
                    x = 1
                    lr = _("lr", 0.2)
                    """,
            }
        )
        assert kinds(problems) == [("second_default", "b.py", 3, 6)]
        assert str(problems[0]) == (
            "b.py:3:6: conflicting defaults for 'lr': 0.1 at a.py:2 and 0.2 at b.py:3; "
            'keep one default and write _("lr") elsewhere'
        )

    def test_second_default_in_the_same_file(self, lint):
        problems = lint({"a.py": 'from hpreg.m import _\n_("n", 1)\n_("n", 2)\n'})
        assert kinds(problems) == [("second_default", "a.py", 3, 1)]

    def test_name_without_any_default(self, lint):
        problems = lint({"a.py": 'from hpreg.m import _\nx = _("depth")\n'})
        assert kinds(problems) == [("no_default", "a.py", 2, 5)]
        assert str(problems[0]) == (
            "a.py:2:5: 'depth' is used without a default anywhere; give one "
            'occurrence a default: _("depth", <default>)'
        )

    def test_a_default_elsewhere_is_enough(self, lint):
        problems = lint(
            {
                "a.py": 'from hpreg.m import _\nx = _("depth", 4)\n',
                "b.py": 'from hpreg.m import _\ny = _("depth")\n',
            }
        )
        assert problems == []

    def test_non_literal_name(self, lint):
        problems = lint({"a.py": "from hpreg.m import _\nkey = 'lr'\nx = _(key, 1)\n"})
        assert kinds(problems) == [("non_literal_name", "a.py", 3, 7)]
        assert "must be a literal string, not key" in str(problems[0])

    def test_non_literal_hint(self, lint):
        problems = lint({"a.py": 'from hpreg.m import _\nx = _("n", 1, low=LOW)\n'})
        assert kinds(problems) == [("non_literal_hint", "a.py", 2, 19)]
        assert str(problems[0]) == (
            "a.py:2:19: hint 'low' of 'n' is not a literal: LOW; hints must be "
            "literals (numbers, strings, None, tuples, lists, dicts, sets)"
        )

    @pytest.mark.parametrize(
        "call, message",
        [
            (
                '_("n", 3, low=5)',
                "3 for 'n' is below its low bound 5; give a value in [5, inf]",
            ),
            (
                '_("n", 9.5, low=0, high=1)',
                "9.5 for 'n' is above its high bound 1; give a value in [0, 1]",
            ),
            (
                '_("n", "sgd", choices=["adam", "rms"])',
                "'sgd' is not a choice of 'n'; choose one of 'adam', 'rms'",
            ),
        ],
    )
    def test_hints_contradicting_the_default(self, lint, call, message):
        problems = lint({"a.py": "from hpreg.m import _\nx = {}\n".format(call)})
        assert kinds(problems) == [("hint", "a.py", 2, 5)]
        assert str(problems[0]) == (
            "a.py:2:5: the default contradicts its hints: " + message
        )

    def test_hints_on_another_occurrence_are_checked_against_the_default(self, lint):
        problems = lint(
            {
                "a.py": 'from hpreg.m import _\nx = _("n", 3)\n',
                "b.py": 'from hpreg.m import _\ny = _("n", high=2)\n',
            }
        )
        assert kinds(problems) == [("hint", "b.py", 2, 5)]

    def test_hints_that_hold_are_clean(self, lint):
        source = (
            "from hpreg.m import _\n"
            '_("n", 3, low=1, high=3)\n'
            '_("opt", "sgd", choices=["sgd", "adam"])\n'
            '_("flag", True, low=2)\n'  # a bool is not bounded
        )
        assert lint({"a.py": source}) == []

    def test_near_duplicate_names(self, lint):
        problems = lint(
            {
                "a.py": """\
                    from hpreg.m import _
                    lr = _("learning_rate", 0.1)
                    lo = _("lr_min", 0.0)
                    hi = _("lr_max", 1.0)
                    """,
                "b.py": """\
                    from hpreg.m import _
                    lr = _("learning_rte", 0.1)
                    """,
            }
        )
        assert kinds(problems) == [("near_duplicate", "b.py", 2, 6)]
        assert str(problems[0]) == (
            "b.py:2:6: 'learning_rte' looks like a typo of 'learning_rate' (a.py:2); "
            "use one name, or add '# hpreg: ignore' if both are meant"
        )

    def test_shadowed_manager_name(self, lint):
        problems = lint(
            {
                "a.py": """\
                    from hpreg.m import _

                    def f(_):
                        return _("n", 1)
                    """
            }
        )
        assert kinds(problems) == [("shadowed", "a.py", 3, 7)]
        assert str(problems[0]).startswith(
            "a.py:3:7: '_' is bound to something else here (parameter)"
        )

    def test_file_that_does_not_parse(self, lint):
        problems = lint({"a.py": "from hpreg.m import _\ndef f(:\n    pass\n"})
        assert kinds(problems) == [("syntax", "a.py", 2, 7)]
        assert str(problems[0]).startswith("a.py:2:7: file does not parse: ")
        assert str(problems[0]).endswith("; fix it so the scan can read it")

    def test_file_that_does_not_parse_and_never_names_a_manager(self, lint):
        problems = lint({"plain.py": "def f(:\n    pass\n"})
        assert kinds(problems) == [("syntax", "plain.py", 1, 7)]

    def test_every_manager_is_linted(self, lint):
        problems = lint(
            {
                "a.py": """\
                    from hpreg.m import _, hp
                    a = _("n", 1)
                    b = hp("m")
                    """
            }
        )
        assert kinds(problems) == [("no_default", "a.py", 3, 5)]
        assert 'hp("m", <default>)' in str(problems[0])

    def test_clean_tree(self, lint):
        source = 'from hpreg.m import _\nx = _("n", 1, low=0)\ny = _("n")\n'
        assert lint({"a.py": source, "b.txt": "not python"}) == []

    def test_examples_lint_clean(self):
        assert lint_paths([EXAMPLES]) == []


class TestOutput:
    def test_sorted_by_place_and_compiler_style(self, lint):
        problems = lint(
            {
                "b.py": 'from hpreg.m import _\n_("x")\n_("y", 1, low=3)\n',
                "a.py": 'from hpreg.m import _\n_("z")\n',
            }
        )
        lines = [str(p) for p in problems]
        assert [line.split(": ")[0] for line in lines] == [
            "a.py:2:1",
            "b.py:2:1",
            "b.py:3:1",
        ]
        for line in lines:
            assert LINE.match(line), line
            assert "\n" not in line

    def test_problem_fields(self):
        problem = LintProblem("a.py", 3, None, "kind", "what is wrong")
        assert problem.location == "a.py:3"
        assert str(problem) == "a.py:3: what is wrong"
        assert repr(problem) == "LintProblem('a.py:3: what is wrong')"


class TestIgnore:
    @pytest.mark.parametrize(
        "mark", ["# hpreg: ignore", "#hpreg:ignore", "# hpreg: ignore  (both meant)"]
    )
    def test_ignore_comment_silences_its_line(self, lint, mark):
        problems = lint(
            {
                "a.py": (
                    "from hpreg.m import _\n"
                    '_("x")  {}\n'
                    '_("y")\n'
                    '_("learning_rate", 0.1)\n'
                    '_("learning_rte", 0.2)  {}\n'
                ).format(mark, mark)
            }
        )
        assert kinds(problems) == [("no_default", "a.py", 3, 1)]

    def test_ignore_silences_a_second_default(self, lint):
        problems = lint(
            {"a.py": 'from hpreg.m import _\n_("n", 1)\n_("n", 2)  # hpreg: ignore\n'}
        )
        assert problems == []

    def test_ignore_on_another_line_does_not(self, lint):
        problems = lint({"a.py": 'from hpreg.m import _  # hpreg: ignore\n_("x")\n'})
        assert kinds(problems) == [("no_default", "a.py", 2, 1)]

    def test_ignore_after_a_call_over_several_lines(self, lint):
        problems = lint(
            {
                "a.py": """\
                    from hpreg.m import _
                    width = _(
                        "width", 3, low=5
                    )  # hpreg: ignore
                    depth = _(
                        "depth",
                    )
                    x = 1  # hpreg: ignore
                    """
            }
        )
        assert kinds(problems) == [("no_default", "a.py", 5, 9)]

    def test_other_comments_do_not(self, lint):
        problems = lint({"a.py": 'from hpreg.m import _\n_("x")  # hpreg: ignored\n'})
        assert kinds(problems) == [("no_default", "a.py", 2, 1)]


class TestLooksLikeTypo:
    @pytest.mark.parametrize(
        "first, second",
        [
            ("learning_rate", "learning_rte"),
            ("learning_rate", "learnign_rate"),
            ("optimizer", "optimzer"),
            ("d_model", "d_mode"),
            ("width", "widht"),
            ("batch_size", "batchsize"),
            ("Dropout", "dropout"),
            ("model.regularization", "model.regualrizaton"),
        ],
    )
    def test_typos(self, first, second):
        assert looks_like_typo(first, second)
        assert looks_like_typo(second, first)

    @pytest.mark.parametrize(
        "first, second",
        [
            ("lr_min", "lr_max"),
            ("max_len", "min_len"),
            ("train.batch_size", "test.batch_size"),
            ("input_dim", "output_dim"),
            ("model.width", "model.depth"),
            ("pre_norm", "post_norm"),
            ("layer1", "layer2"),
            ("beta1", "beta2"),
            ("lr", "lr2"),
            ("dropout", "dropout_1"),
            ("pos.x_min", "pos.y_min"),
            ("encoder.n_layers", "decoder.n_layers"),
            ("encoder", "decoder"),
            ("lr", "lr"),
            ("x", "y"),
        ],
    )
    def test_whole_word_differences(self, first, second):
        assert not looks_like_typo(first, second)
        assert not looks_like_typo(second, first)

    def test_encoder_decoder_tree_lints_clean(self, lint):
        source = (
            "from hpreg.m import _\n"
            '_("encoder.n_layers", 6)\n'
            '_("decoder.n_layers", 6)\n'
            '_("encoder.d_model", 512)\n'
            '_("decoder.d_model", 512)\n'
        )
        assert lint({"a.py": source}) == []

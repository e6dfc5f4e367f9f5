"""Issue 8, ``hpreg sweep`` and its files: ``--out`` never loses a file, huge and odd
values are handled or refused in one clean line, the API and the command line agree."""

import argparse
import csv
import json
import os
import random
import stat

import pytest
import yaml

import hpreg
from hpreg import sweep as hp
from hpreg.io.files import HpregLoader, write_atomic
from hpreg.argparse import bind
from hpreg.errors import ValuesFileError
from hpreg.sweep.file import load_sweep
from cli_support import json_lines, one_error_line

NOT_UTF8 = b"a\xff".decode("utf-8", "surrogateescape")  # how Linux hands argv over


def snapshot(folder):
    """Every file under ``folder`` with its bytes."""
    found = {}
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                found[os.path.relpath(path, folder)] = f.read()
    return found


def siblings(folder):
    """What ``folder`` holds, besides the scan cache."""
    return sorted(n for n in os.listdir(folder) if n != "hpreg-cache")


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- 1. --out loses nothing ---------------------------------------------------------------
class TestOutFolder:
    def test_force_never_removes_a_datasets_files(self, cli, tmp_path):
        data = tmp_path / "data"
        write(data / "index.csv", "index,file\n0,img001.png\n1,train.py\n")
        write(data / "img001.png", "pixels")
        write(data / "train.py", "print('hi')\n")
        before = snapshot(data)
        for force in ([], ["--force"]):
            code, out, err = cli("sweep", "a=1,2", "--out", data, *force)
            assert (code, out) == (1, "")
            message = one_error_line(err)
            assert message.startswith(
                "{}: the folder is not empty and was not written by 'hpreg sweep "
                "--out'".format(data)
            )
            assert "choose a new or empty --out folder" in message
            assert snapshot(data) == before

    def test_a_users_point_file_is_not_overwritten(self, cli, tmp_path):
        folder = tmp_path / "mine"
        write(folder / "sweep_0.yaml", "a: 42\n")
        for force in ([], ["--force"]):
            code, _out, err = cli("sweep", "a=1", "--out", folder, *force)
            assert code == 1
            assert str(folder) in one_error_line(err)
        assert (folder / "sweep_0.yaml").read_text() == "a: 42\n"

    def test_an_empty_folder_and_a_new_one_are_fine(self, cli, tmp_path):
        (tmp_path / "empty").mkdir()
        assert cli("sweep", "a=1,2", "--out", tmp_path / "empty")[0] == 0
        assert cli("sweep", "a=1,2", "--out", tmp_path / "new" / "deep")[0] == 0
        for folder in (tmp_path / "empty", tmp_path / "new" / "deep"):
            assert sorted(os.listdir(folder)) == [
                ".hpreg-sweep",
                "index.csv",
                "sweep_0.yaml",
                "sweep_1.yaml",
            ]
            manifest = json.loads((folder / ".hpreg-sweep").read_text())
            assert sorted(manifest["files"]) == [
                "index.csv",
                "sweep_0.yaml",
                "sweep_1.yaml",
            ]

    def test_force_removes_only_what_hpreg_wrote(self, cli, tmp_path):
        folder = tmp_path / "o"
        assert cli("sweep", "a=1,2,3", "--out", folder)[0] == 0
        write(folder / "results.json", "{}\n")  # the user's, next to the points
        write(folder / "logs" / "run0.txt", "ok\n")
        code, _out, err = cli("sweep", "a=5,6", "--out", folder, "--force")
        assert (code, err) == (0, "")
        assert sorted(os.listdir(folder)) == [
            ".hpreg-sweep",
            "index.csv",
            "logs",
            "results.json",
            "sweep_0.yaml",
            "sweep_1.yaml",
        ]
        assert (folder / "results.json").read_text() == "{}\n"
        assert (folder / "logs" / "run0.txt").read_text() == "ok\n"
        assert yaml.safe_load((folder / "sweep_1.yaml").read_text()) == {"a": 6}
        assert siblings(tmp_path) == ["o"]

    def test_a_users_file_the_new_sweep_would_replace_is_refused(self, cli, tmp_path):
        folder = tmp_path / "o"
        assert cli("sweep", "a=1", "--out", folder)[0] == 0
        write(folder / "sweep_1.yaml", "mine: true\n")
        code, _out, err = cli("sweep", "a=1,2", "--out", folder, "--force")
        assert code == 1
        assert "holds sweep_1.yaml, which hpreg did not write" in one_error_line(err)
        assert (folder / "sweep_1.yaml").read_text() == "mine: true\n"

    @pytest.mark.parametrize("error", [OSError(28, "No space left on device"), None])
    def test_a_failure_half_way_keeps_the_old_sweep(
        self, cli, tmp_path, monkeypatch, error
    ):
        from hpreg.sweep import output as _sweep_output

        folder = tmp_path / "o"
        assert cli("sweep", "a=1,2,3,4", "--out", folder)[0] == 0
        before = snapshot(folder)
        real_write = _sweep_output._write_file
        calls = []

        def failing(path, text):
            calls.append(path)
            if len(calls) == 3:
                raise error if error is not None else KeyboardInterrupt()
            real_write(path, text)

        monkeypatch.setattr(_sweep_output, "_write_file", failing)
        code, out, err = cli("sweep", "a=5,6,7,8", "--out", folder, "--force")
        assert (code, out) == ((1, "") if error else (130, ""))
        if error:
            assert "No space left on device" in one_error_line(err)
        assert snapshot(folder) == before
        assert siblings(tmp_path) == ["o"]  # no temp left

    def test_a_failure_on_a_new_folder_leaves_nothing(self, cli, tmp_path, monkeypatch):
        from hpreg.sweep import output as _sweep_output

        def failing(path, text):
            raise OSError(5, "Input/output error")

        monkeypatch.setattr(_sweep_output, "_write_file", failing)
        code, _out, err = cli("sweep", "a=1,2", "--out", tmp_path / "o")
        assert code == 1
        assert "Input/output error" in one_error_line(err)
        assert siblings(tmp_path) == []

    def test_the_current_folder_is_refused(self, cli, tmp_path):
        code, out, err = cli("sweep", "a=1", "--out", ".", cwd=tmp_path)
        assert (code, out) == (1, "")
        assert one_error_line(err).startswith(".: is the current folder or holds it")
        assert os.getcwd() == str(tmp_path) and siblings(tmp_path) == []

    def test_a_symlinked_folder_stays_a_link(self, cli, tmp_path):
        (tmp_path / "real").mkdir()
        os.symlink(tmp_path / "real", tmp_path / "link")
        assert cli("sweep", "a=1", "--out", tmp_path / "link")[0] == 0
        assert cli("sweep", "a=1,2", "--out", tmp_path / "link", "--force")[0] == 0
        assert os.path.islink(tmp_path / "link")
        assert "sweep_1.yaml" in os.listdir(tmp_path / "real")


class TestWriteAtomic:
    def test_writes_through_a_symlink(self, tmp_path):
        target = write(tmp_path / "configs" / "hp.yaml", "lr: 0.1\n")
        link = tmp_path / "hp.yaml"
        os.symlink(target, link)
        write_atomic(link, "lr: 0.2\n")
        assert os.path.islink(link)
        assert target.read_text() == "lr: 0.2\n"
        assert sorted(os.listdir(target.parent)) == ["hp.yaml"]

    def test_keeps_the_mode_of_an_existing_file(self, tmp_path):
        path = write(tmp_path / "secret.yaml", "a: 1\n")
        os.chmod(path, 0o600)
        write_atomic(path, "a: 2\n")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert path.read_text() == "a: 2\n"

    def test_a_new_file_gets_the_umask_default(self, tmp_path):
        umask = os.umask(0o022)
        try:
            write_atomic(tmp_path / "new.yaml", "a: 1\n")
        finally:
            os.umask(umask)
        assert stat.S_IMODE(os.stat(tmp_path / "new.yaml").st_mode) == 0o644

    def test_hp_save_over_a_link_to_a_private_file(self, tmp_path):
        target = write(tmp_path / "store" / "hp.yaml", "lr: 0.1\n")
        os.chmod(target, 0o600)
        link = tmp_path / "hp.yaml"
        os.symlink(target, link)
        manager = hpreg.HyperParameterManager("_")
        manager.parse_source("_('lr', 0.1)\n", filename="train.py")
        parser = argparse.ArgumentParser(prog="train")
        bind(parser, manager)
        parser.parse_args(["--lr", "0.3", "--hp-save", str(link)])
        assert os.path.islink(link)
        assert yaml.safe_load(target.read_text()) == {"lr": 0.3}
        assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


# -- 3. huge ranges, long integers, bytes that are not UTF-8 ----------------------------
class TestHugeSweeps:
    def test_the_api_counts_indexes_samples_and_shards_past_maxsize(self):
        s = hp.product(a=range(10**30), b=[1, 2])
        assert s.count() == 2 * 10**30
        assert s[-1] == {"a": 10**30 - 1, "b": 2}
        assert s[2 * 10**29 + 1] == {"a": 10**29, "b": 2}
        drawn = list(s.sample(3, seed=1))
        assert len(drawn) == 3 and drawn == list(s.sample(3, seed=1))
        shard = s.shard(3, 10**29)
        assert shard.count() == 20
        assert list(shard)[1] == s[3 + 10**29]
        assert hp.zip(a=range(10**30), b=range(1, 10**30 + 1)).count() == 10**30

    def test_a_huge_range_in_a_sweep_file(self, cli, tmp_path):
        path = write(tmp_path / "huge.yaml", "x: range(10**18)\ny: range(10**18)\n")
        assert cli("sweep", path, "--count") == (0, "{}\n".format(10**36), "")
        code, out, err = cli("sweep", path, "--sample", "3", "--seed", "4")
        assert (code, err) == (0, "")
        assert json_lines(out) == list(load_sweep(str(path)).sample(3, seed=4))
        assert cli("sweep", path, "--shard", "5/{}".format(10**30), "--count")[1] == (
            "{}\n".format(10**6)
        )
        code, out, err = cli("sweep", path, "--shard", "5/{}".format(10**34))
        assert (code, err) == (0, "")
        assert len(json_lines(out)) == 100

    @pytest.mark.parametrize(
        "option, verb", [("--out", "writes"), ("--list", "prints")]
    )
    def test_out_and_list_of_a_huge_sweep_are_refused(
        self, cli, tmp_path, option, verb
    ):
        path = write(tmp_path / "huge.yaml", "x: range(10**18)\ny: range(10**18)\n")
        argv = ["sweep", path, option] + ([tmp_path / "o"] if option == "--out" else [])
        code, out, err = cli(*argv)
        assert (code, out) == (1, "")
        message = one_error_line(err)
        assert message.startswith(
            "the sweep has 1e36 points; {} {} at most".format(option, verb)
        )
        assert message.endswith(
            "draw some with --sample N or split it with --shard K/N"
        )
        assert not (tmp_path / "o").exists()
        code, _out, err = cli("sweep", path, "--sample", "2", "--out", tmp_path / "o")
        assert (code, err) == (0, "")

    def test_out_refuses_a_sweep_over_its_limit(self, cli, tmp_path, monkeypatch):
        from hpreg.sweep import output as _sweep_output

        monkeypatch.setattr(_sweep_output, "MAX_OUT_POINTS", 5)
        code, _out, err = cli("sweep", "a=range(0,6)", "--out", tmp_path / "o")
        assert code == 1
        assert one_error_line(err).startswith(
            "the sweep has 6 points; --out writes at most 5"
        )
        code, _out, err = cli(
            "sweep", "a=range(0,9)", "--unique", "--out", tmp_path / "o"
        )  # no cheap length: counted while listing
        assert code == 1
        assert one_error_line(err).startswith(
            "the sweep has more than 5 points; --out writes at most 5"
        )
        assert not (tmp_path / "o").exists()

    @pytest.mark.parametrize("value", ["range(1e300)", "range(0,1,1e-300)"])
    def test_a_float_range_too_long(self, cli, tmp_path, value):
        code, _out, err = cli("sweep", "x=" + value, "--count")
        assert code == 2
        assert "a float range of 1e300 values is too long" in one_error_line(err)
        path = write(tmp_path / "s.yaml", "x: {}\n".format(value))
        code, _out, err = cli("sweep", path, "--count")
        assert code == 1
        assert "a float range of 1e300 values" in one_error_line(err)


class TestUnwritableValues:
    def test_a_derived_integer_too_long_to_print(self, cli, tmp_path):
        path = write(tmp_path / "s.yaml", "a: [1, 2]\nderive:\n  b: 2 ** 20000\n")
        code, out, err = cli("sweep", path, "--list")
        assert (code, out) == (1, "")
        assert one_error_line(err).startswith(
            "point 0: 'b' is an integer of about 6021 digits, more than the 4300"
        )
        code, out, err = cli("sweep", path, "--out", tmp_path / "o")
        assert (code, out) == (1, "")
        assert one_error_line(err).startswith(
            "{}: point 0: 'b' is an integer of about 6021 digits".format(tmp_path / "o")
        )
        assert not (tmp_path / "o").exists()

    def test_an_integer_of_4300_digits_round_trips(self, cli, tmp_path):
        path = write(tmp_path / "s.yaml", "a: [1]\nderive:\n  b: 10 ** 4299\n")
        assert cli("sweep", path, "--out", tmp_path / "o")[0] == 0
        assert yaml.load(
            (tmp_path / "o" / "s_0.yaml").read_text(), Loader=HpregLoader
        ) == {"a": 1, "b": 10**4299}

    def test_out_with_bytes_that_are_not_utf8(self, cli, tmp_path):
        for item in ("x=" + NOT_UTF8, NOT_UTF8 + "=1"):
            code, out, err = cli("sweep", item, "--out", tmp_path / "o")
            assert (code, out) == (1, "")
            message = one_error_line(err)
            assert message.startswith("{}: point 0: ".format(tmp_path / "o"))
            assert "bytes that are not UTF-8 ('a\\udcff'" in message
            assert not (tmp_path / "o").exists()
        code, out, err = cli("sweep", "x=" + NOT_UTF8, "--list")  # JSON escapes them
        assert (code, err) == (0, "")
        assert json_lines(out) == [{"x": NOT_UTF8}]

    def test_hp_save_json_with_bytes_that_are_not_utf8(self, capsys, tmp_path):
        path = tmp_path / "hp.json"
        manager = hpreg.HyperParameterManager("_")
        manager.parse_source("_('name', 'run')\n", filename="train.py")
        parser = argparse.ArgumentParser(prog="train")
        bind(parser, manager)
        with pytest.raises(SystemExit) as info:
            parser.parse_args(["--name", NOT_UTF8, "--hp-save", str(path)])
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err
        assert "cannot save 'name': it is text with bytes that are not UTF-8" in err
        assert not path.exists()
        with pytest.raises(ValuesFileError, match="cannot save 'name'"):
            manager.save(str(path))

    def test_hp_save_yaml_writes_them_faithfully(self, tmp_path):
        path = tmp_path / "hp.yaml"
        manager = hpreg.HyperParameterManager("_")
        manager.parse_source("_('name', 'run')\n", filename="train.py")
        parser = argparse.ArgumentParser(prog="train")
        bind(parser, manager)
        parser.parse_args(["--name", NOT_UTF8, "--hp-save", str(path)])
        loaded = hpreg.HyperParameterManager("_")
        loaded.parse_source("_('name', 'run')\n", filename="train.py")
        loaded.load(str(path))
        assert loaded.get_value("name") == NOT_UTF8


# -- 4. no value changes silently -------------------------------------------------------
class TestShardIndex:
    def test_shards_carry_the_index_in_the_whole_sweep(self, cli, tmp_path):
        whole = tmp_path / "whole"
        assert cli("sweep", "a=range(0,12)", "--out", whole)[0] == 0
        names = set()
        for k in range(4):
            out = tmp_path / "shard{}".format(k)
            code, _out, err = cli(
                "sweep", "a=range(0,12)", "--shard", "{}/4".format(k), "--out", out
            )
            assert (code, err) == (0, "")
            rows = list(csv.reader(open(out / "index.csv", encoding="utf-8")))
            assert [row[0] for row in rows[1:]] == [str(i) for i in range(k, 12, 4)]
            assert [row[1] for row in rows[1:]] == [
                "sweep_{:02d}.yaml".format(i) for i in range(k, 12, 4)
            ]
            for row in rows[1:]:
                assert (out / row[1]).read_text() == (whole / row[1]).read_text()
                names.add(row[1])
        assert names == {n for n in os.listdir(whole) if n.endswith(".yaml")}

    def test_a_sample_carries_the_index_in_the_whole_sweep(self, cli, tmp_path):
        argv = ["sweep", "a=range(0,100)", "--sample", "3", "--seed", "1"]
        assert cli(*argv, "--out", tmp_path / "o")[0] == 0
        rows = list(csv.reader(open(tmp_path / "o" / "index.csv", encoding="utf-8")))
        drawn = random.Random(1).sample(range(100), 3)
        assert [row[0] for row in rows[1:]] == [str(i) for i in drawn]
        assert [row[1] for row in rows[1:]] == [
            "sweep_{:02d}.yaml".format(i) for i in drawn
        ]

    def test_a_shard_of_a_filtered_sweep(self, cli, tmp_path):
        path = write(tmp_path / "s.yaml", "a: range(10)\nwhere: a % 2 == 0\n")
        assert cli("sweep", path, "--shard", "1/2", "--out", tmp_path / "o")[0] == 0
        rows = list(csv.reader(open(tmp_path / "o" / "index.csv", encoding="utf-8")))
        assert [(row[0], row[2]) for row in rows[1:]] == [("1", "2"), ("3", "6")]


class TestUnique:
    def test_values_of_different_types_stay(self, cli):
        assert cli("sweep", "a=1,true,1.0,1", "--unique", "--count")[1] == "3\n"
        points = json_lines(cli("sweep", "a=1,true,1.0,1", "--unique")[1])
        assert [type(p["a"]) for p in points] == [int, bool, float]

    def test_nested_values_compare_with_their_types(self):
        s = hp.product(a=[[1], [True], [1.0], [1], {"k": 1}, {"k": True}]).unique()
        assert [p["a"] for p in s] == [[1], [True], [1.0], {"k": 1}, {"k": True}]
        assert hp.product(a=[(1, 2), [1, 2], (1, 2)]).unique().count() == 2


class TestSampleAgrees:
    @pytest.mark.parametrize(
        "text, extra",
        [
            ("a: range(30)\nb: [x, y]\nwhere: a % 3 != 1\n", []),
            ("a: [1, 1, 2, 2, 3, 4, 5, 5]\n", ["--unique"]),
        ],
    )
    def test_api_and_command_line_draw_the_same_points(
        self, cli, tmp_path, text, extra
    ):
        path = write(tmp_path / "s.yaml", text)
        s = load_sweep(str(path))
        if extra:
            s = s.unique()
        for seed in (0, 7):
            code, out, err = cli("sweep", path, *extra, "--sample", "4", "--seed", seed)
            assert (code, err) == (0, "")
            assert json_lines(out) == list(s.sample(4, seed=seed))


class TestArgumentOrder:
    def test_overrides_after_options(self, cli, tmp_path):
        path = write(tmp_path / "s.yaml", "lr: [0.1, 0.2]\nn: [1, 2, 3]\n")
        assert cli("sweep", path, "--count", "lr=0.3") == (0, "3\n", "")
        assert cli("sweep", "a=1,2", "--count", "b=3,4") == (0, "4\n", "")
        assert cli("sweep", "--count", path, "n=5") == (0, "2\n", "")
        code, out, _err = cli("sweep", path, "--shard", "0/2", "n=7", "--list")
        assert (code, json_lines(out)) == (0, [{"lr": 0.1, "n": 7}])

    def test_unknown_options_are_still_usage_errors(self, cli):
        code, out, err = cli("sweep", "a=1", "--count", "--bogus")
        assert (code, out) == (2, "")
        assert one_error_line(err).startswith("unrecognized arguments: --bogus")
        code, _out, err = cli("lint", "examples/train", "--bogus")
        assert code == 2
        assert one_error_line(err).startswith("unrecognized arguments: --bogus")


class TestPathWithEquals:
    def test_a_sweep_file_in_a_hydra_output_folder(self, cli, tmp_path):
        path = write(tmp_path / "outputs" / "lr=0.1" / "sweep.yaml", "a: [1, 2]\n")
        assert cli("sweep", path, "--count") == (0, "2\n", "")
        assert cli("sweep", path, "b=3,4", "--count") == (0, "4\n", "")
        assert cli("sweep", "b=3,4", path, "--count") == (0, "4\n", "")
        relative = os.path.join("outputs", "lr=0.1", "sweep.yaml")
        assert cli("sweep", relative, "--count", cwd=tmp_path) == (0, "2\n", "")
        code, _out, err = cli("sweep", relative, "--out", "o", cwd=tmp_path)
        assert (code, err) == (0, "")
        assert sorted(os.listdir(tmp_path / "o"))[-1] == "sweep_1.yaml"

    def test_an_override_is_still_an_override(self, cli, tmp_path):
        code, out, _err = cli("sweep", "lr=0.1", cwd=tmp_path)
        assert (code, json_lines(out)) == (0, [{"lr": 0.1}])

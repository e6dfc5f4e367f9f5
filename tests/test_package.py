"""The package's shape: light imports, lazy public names, paths that stay."""

import json
import os
import subprocess
import sys

import pytest

import hpreg


def _modules_after(code, env=None):
    full_env = dict(os.environ)
    full_env.pop("HPREG_CONFIG", None)
    full_env.update(env or {})
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            code + "\nimport sys, json\n" "print(json.dumps(sorted(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        env=full_env,
        check=True,
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


class TestLightImports:
    def test_first_line_of_a_training_job_loads_the_registry_alone(self):
        loaded = _modules_after("from hpreg.m import _\n_('lr', 0.1)")
        heavy = {
            "yaml",
            "argparse",
            "prettytable",
            "optuna",
            "submitit",
            "dask",
            "distributed",
            "matplotlib",
        }
        assert not loaded & heavy
        assert not {m for m in loaded if m.startswith(("hpreg.sweep", "hpreg.binder"))}
        assert not {m for m in loaded if m.startswith(("hpreg.cli", "hpreg.scan"))}

    def test_hpreg_config_loads_yaml_only_when_set(self, tmp_path):
        values = tmp_path / "values.yaml"
        values.write_text("lr: 0.5\n")
        loaded = _modules_after(
            "from hpreg.m import _\nassert _('lr', 0.1) == 0.5",
            env={"HPREG_CONFIG": str(values)},
        )
        assert "yaml" in loaded
        assert not {m for m in loaded if m.startswith(("hpreg.sweep", "hpreg.binder"))}

    def test_import_hpreg_loads_no_layer(self):
        loaded = _modules_after("import hpreg")
        assert not {m for m in loaded if m.startswith("hpreg.")}


class TestPublicNames:
    @pytest.mark.parametrize("name", hpreg.__all__)
    def test_every_listed_name_resolves(self, name):
        assert getattr(hpreg, name) is not None

    def test_unknown_name_is_an_attribute_error(self):
        with pytest.raises(AttributeError, match="no attribute 'nope'"):
            hpreg.nope  # noqa: B018

    def test_functions_and_subpackages_have_their_own_names(self):
        import types

        import hpreg.binder.binding
        import hpreg.optimizer.api
        import hpreg.runner.local

        from hpreg import bind
        from hpreg.binder.binding import bind as defined

        assert bind is hpreg.bind is defined
        assert type(hpreg) is types.ModuleType  # no module-class swap
        assert isinstance(hpreg.runner.local, types.ModuleType)
        assert hpreg.run is hpreg.runner.api.run
        assert hpreg.optimize is hpreg.optimizer.api.optimize

    def test_paths_that_stay(self):
        import hpreg.argparse
        import hpreg.errors
        import hpreg.hpm
        import hpreg.hpm_db
        import hpreg.m
        import hpreg.primitives
        import hpreg.source_helper
        import hpreg.sweep

        assert hpreg.hpm.HyperParameterManager is hpreg.HyperParameterManager
        assert hpreg.sweep.product is hpreg.product
        assert callable(hpreg.argparse.bind) and callable(hpreg.argparse.parse_args)
        assert issubclass(hpreg.argparse.StringAsDefault, str)
        assert hpreg.source_helper.SourceHelper is hpreg.SourceHelper

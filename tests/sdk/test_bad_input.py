"""Bad input is a clear error before anything starts, and leaves nothing behind."""

from __future__ import annotations

import pytest

from rlops.exceptions import AlreadyExists, InvalidHyperparameter, InvalidJobName, UnavailableToolkit, UsageError
from rlops.rl import RLEstimator, RLFramework, RLToolkit
from rlops.store import JobStore


@pytest.fixture
def nothing_left_behind(rlops_home, tmp_path):
    yield
    assert JobStore().list() == []
    assert not (rlops_home / "jobs").exists() or not any((rlops_home / "jobs").iterdir())
    assert not (tmp_path / "output").exists()


@pytest.mark.usefixtures("nothing_left_behind")
class TestRefusedBeforeAnythingStarts:
    def test_unknown_toolkit(self, estimator_factory):
        with pytest.raises(UnavailableToolkit, match=r"Unknown toolkit 'sb4'.*coach, fast, ray, sb3.*Did you mean 'sb3'"):
            estimator_factory("contract.py", toolkit="sb4")

    def test_coach_is_accepted_with_any_version_and_framework(self, estimator_factory):
        for framework in (RLFramework.TENSORFLOW, RLFramework.MXNET, "tensorflow"):  # translated: nothing refused
            estimator = estimator_factory("contract.py", toolkit=RLToolkit.COACH, toolkit_version="0.10.1",
                                          framework=framework)
            assert estimator.toolkit == RLToolkit.COACH

    def test_unavailable_framework(self, estimator_factory):
        with pytest.raises(UnavailableToolkit, match="TENSORFLOW is not available.*RLFramework.PYTORCH"):
            estimator_factory("contract.py", toolkit="sb3", framework=RLFramework.TENSORFLOW)

    def test_unknown_framework(self, estimator_factory):
        with pytest.raises(UnavailableToolkit, match="Unknown framework 'jax'"):
            estimator_factory("contract.py", framework="jax")

    def test_ray_not_installed_names_the_install(self, estimator_factory, monkeypatch):
        import importlib.util

        real_find_spec = importlib.util.find_spec
        # Ray may be installed here: make it look missing, as on a machine without it.
        monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real_find_spec(name, *a))
        with pytest.raises(UnavailableToolkit, match=r"pip install 'rlops\[ray\]'"):
            estimator_factory("contract.py", toolkit="ray")

    def test_instance_groups_with_instance_count_or_bad_groups(self, estimator_factory):
        from rlops.instance_group import InstanceGroup

        groups = [InstanceGroup("learner", "local", 1)]
        with pytest.raises(UsageError, match="either instance_groups or instance_count/instance_type"):
            estimator_factory("contract.py", instance_groups=groups)  # the factory sets instance_type="local"
        for bad, message in [([InstanceGroup("a", "local", 1), InstanceGroup("a", "local", 1)], "named 'a'"),
                             ([InstanceGroup("a/b", "local", 1)], "Invalid instance group name 'a/b'"),
                             ([InstanceGroup("a", "local", 0)], "positive integer instance_count; got 0"),
                             ([("a", "local", 1)], "InstanceGroup objects"), ([], "non-empty list")]:
            with pytest.raises(UsageError, match=message):
                estimator_factory("contract.py", instance_type=None, instance_groups=bad)

    def test_a_ray_cluster_that_does_not_answer(self, estimator_factory, monkeypatch):
        import socket
        import time

        with socket.socket() as probe:  # a loopback port nothing listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        start = time.monotonic()
        with pytest.raises(UsageError, match=rf"Ray cluster at http://127\.0\.0\.1:{port} does not answer.*ray start --head"):
            estimator_factory("contract.py", toolkit="ray", instance_type=f"ray:http://127.0.0.1:{port}").fit(logs=False)
        assert time.monotonic() - start < 10
        monkeypatch.delenv("RLOPS_RAY_ADDRESS", raising=False)
        with pytest.raises(UsageError, match="RLOPS_RAY_ADDRESS"):
            estimator_factory("contract.py", toolkit="ray", instance_type="ray").fit(logs=False)
        with pytest.raises(UsageError, match="instance_count=2.*the cluster's own nodes"):
            estimator_factory("contract.py", toolkit="ray", instance_type=f"ray:http://127.0.0.1:{port}",
                              instance_count=2).fit(logs=False)

    def test_missing_entry_point(self, estimator_factory):
        with pytest.raises(UsageError, match="entry point 'nope.py' is not in source_dir"):
            estimator_factory("nope.py")

    def test_no_entry_point(self):
        import sys

        with pytest.raises(UsageError, match="needs an entry_point"):
            RLEstimator(image_uri=sys.executable)
        with pytest.raises(UsageError, match=r"without an entry_point runs a preset.*'preset'"):
            RLEstimator(toolkit="sb3")

    def test_missing_channel(self, estimator_factory, tmp_path):
        estimator = estimator_factory("contract.py")
        with pytest.raises(UsageError, match=r"channel 'training' does not exist: '.*missing'"):
            estimator.fit(str(tmp_path / "missing"))

    def test_remote_channel_scheme(self, estimator_factory):
        estimator = estimator_factory("contract.py")
        with pytest.raises(UsageError, match=r"gs:// scheme.*file:// URI"):
            estimator.fit({"train": "gs://bucket/data"})
        with pytest.raises(UsageError, match=r"bucket 'bucket', which is not one of rlops's buckets"):
            estimator.fit({"train": "s3://bucket/data"})

    @pytest.mark.parametrize("name", ["-starts-with-dash", "has_underscore", "a" * 64, "ends-", ""])
    def test_invalid_job_name(self, estimator_factory, name):
        estimator = estimator_factory("contract.py")
        with pytest.raises(InvalidJobName, match=r"\^\[a-zA-Z0-9\]"):
            estimator.fit(job_name=name)

    def test_dunder_hyperparameter_path(self, estimator_factory):
        with pytest.raises(InvalidHyperparameter, match="'__class__'"):
            estimator_factory("contract.py", hyperparameters={"rl.__class__.x": 1})

    def test_non_json_hyperparameter(self, estimator_factory):
        with pytest.raises(InvalidHyperparameter, match=r"'schedule' = .* \(function\) is not JSON-serialisable"):
            estimator_factory("contract.py", hyperparameters={"schedule": lambda x: x})

    def test_unknown_keyword_suggests(self, estimator_factory):
        with pytest.raises(UsageError, match="unexpected keyword 'instance_typ'.*Did you mean 'instance_type'"):
            estimator_factory("contract.py", instance_typ="local")

    def test_bad_image_uri(self, estimator_factory):
        with pytest.raises(UsageError, match="not a Python interpreter"):
            estimator_factory("contract.py", toolkit=None, image_uri="123.dkr.ecr.us-west-2.amazonaws.com/rl:1")

    def test_bad_metric_regex(self, estimator_factory):
        with pytest.raises(UsageError, match="no capture group"):
            estimator_factory("contract.py", metric_definitions=[{"Name": "x", "Regex": "reward"}])


@pytest.mark.slow
def test_used_job_name_is_refused_and_first_job_untouched(estimator_factory):
    estimator = estimator_factory("contract.py")
    estimator.fit(job_name="only-once", logs=False)
    with pytest.raises(AlreadyExists, match="'only-once' already exists"):
        estimator_factory("contract.py").fit(job_name="only-once")
    assert [j.name for j in JobStore().list()] == ["only-once"]
    assert JobStore().get("only-once").status == "Completed"


@pytest.mark.slow
def test_v1_aliases_are_renamed_first(estimator_factory):
    import sys

    estimator = estimator_factory("contract.py", toolkit=None, image_name=sys.executable, train_instance_count=2,
                                  train_max_run=100, train_instance_type="local", role="SageMakerRole",
                                  debugger_hook_config=False)
    assert (estimator.image_uri, estimator.instance_count, estimator.max_run) == (sys.executable, 2, 100)

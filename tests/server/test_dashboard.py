"""The dashboard in a real headless Chromium: a running job in the list, its reward curve gaining points while it
trains, its log, and an endpoint's form answering with an action. The job page's screenshot is kept in
``test-artifacts/`` (``RLOPS_TEST_ARTIFACTS``)."""

from __future__ import annotations

import pytest

from rlops.model import Model
from rlops.session import Session
from tests.server.conftest import ARTIFACTS

pytestmark = pytest.mark.slow
TIMEOUT_MS = 30_000


def points(page, metric: str) -> int:
    return int(page.get_attribute(f'.chart[data-metric="{metric}"]', "data-points") or 0)


def test_jobs_list_and_a_live_reward_curve(rlops_server, estimator_factory, page):
    estimator = estimator_factory("slow_metrics.py", hyperparameters={"episodes": 48, "interval": 0.25},
                                  metric_definitions=[{"Name": "reward", "Regex": "Total reward=(-?[0-9.]+)"},
                                                      {"Name": "loss", "Regex": "loss=([0-9.]+)"}])
    estimator.fit(wait=False)
    name = estimator.latest_training_job.name
    jobs = Session().service.jobs

    page.goto(f"{rlops_server.url}/jobs")
    row = page.locator(f'tr.job[data-name="{name}"]')
    row.wait_for(timeout=TIMEOUT_MS)
    assert row.get_attribute("data-status") == "InProgress"
    assert "InProgress" in row.locator(".status").inner_text()

    page.goto(f"{rlops_server.url}/jobs/{name}")
    page.wait_for_function("document.querySelector('.chart[data-metric=\"reward\"]') && "
                           "+document.querySelector('.chart[data-metric=\"reward\"]').dataset.points >= 2",
                           timeout=TIMEOUT_MS)
    first = points(page, "reward")
    assert jobs.describe(name).status == "InProgress"
    page.wait_for_function(f"+document.querySelector('.chart[data-metric=\"reward\"]').dataset.points > {first}",
                           timeout=TIMEOUT_MS)  # the curve gains points while the job trains
    assert jobs.describe(name).status == "InProgress"
    assert page.locator('.chart[data-metric="loss"]').count() == 1
    assert "Training>" in page.locator("#log").inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-job.png"), full_page=True)

    estimator.latest_training_job.wait(logs=False)
    page.wait_for_selector("#job-status.Completed", timeout=TIMEOUT_MS)
    page.wait_for_function("+document.querySelector('.chart[data-metric=\"reward\"]').dataset.points == 48",
                           timeout=TIMEOUT_MS)
    assert "finished" in page.locator("#log").inner_text()
    page.goto(f"{rlops_server.url}/jobs?status=Completed&q={name[-6:]}")
    assert "reward = 47" in page.locator(f'tr.job[data-name="{name}"] .metrics').inner_text()
    page.goto(f"{rlops_server.url}/jobs?status=Failed")
    assert page.locator(f'tr.job[data-name="{name}"]').count() == 0


def test_the_endpoint_form_returns_an_action(rlops_server, trained, page):
    Model(trained.model_data).deploy(initial_instance_count=1, instance_type="local", endpoint_name="form-endpoint")
    page.goto(f"{rlops_server.url}/endpoints")
    form = page.locator('form.invoke[data-endpoint="form-endpoint"]')
    form.locator(".observation").fill("[0.01, -0.02, 0.03, 0.04]")
    form.locator("button").click()
    page.wait_for_selector('form.invoke[data-endpoint="form-endpoint"] .answer[data-status="200"]',
                           timeout=TIMEOUT_MS)
    answer = form.locator(".answer").inner_text()
    assert '"action":' in answer and "probabilities" in answer

    form.locator(".observation").fill("[1.0, 2.0]")  # the wrong shape: the endpoint's own 400, passed through
    form.locator("button").click()
    page.wait_for_selector('form.invoke[data-endpoint="form-endpoint"] .answer[data-status="400"]',
                           timeout=TIMEOUT_MS)
    assert "shape" in form.locator(".answer").inner_text()


def test_a_completed_job_page_shows_artifacts_evaluation_and_baselines(rlops_server, page, tmp_path):
    from rlops.rl import RLEstimator, RLToolkit

    estimator = RLEstimator(toolkit=RLToolkit.SB3, output_path=str(tmp_path / "out"),
                            hyperparameters={"preset": "mountaincar-dqn", "rl.schedule.training_steps": 256,
                                             "rl.schedule.evaluation_every": 256,
                                             "rl.schedule.evaluation_episodes": 1})
    estimator.fit(logs=False)
    name = estimator.latest_training_job.name
    page.goto(f"{rlops_server.url}/jobs/{name}")
    assert "model/policy.onnx" in page.locator("#artifacts").inner_text()
    assert "mean return" in page.locator("#evaluation").inner_text()
    page.click("#evaluation button")
    page.wait_for_selector("#baselines", timeout=120_000)
    table = page.locator("#baselines").inner_text()
    assert f"{name} (trained)" in table and "pump" in table.lower()

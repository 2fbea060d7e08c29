"""The REST API of a live ``rlops server``: its description, its errors, its token, and the SDK's view of a
server that is down or of another version."""

from __future__ import annotations

import http.server
import json
import stat
import threading

import httpx
import pytest
from click.testing import CliRunner

from rlops.cli.main import cli
from rlops.exceptions import NotFound, UsageError
from rlops.rl import RLEstimator
from rlops.runtime.endpoints import free_port
from rlops.runtime.remote import API_VERSION, ServerUnavailable
from rlops.session import Session
from tests.conftest import SCRIPTS, ServerProcess

pytestmark = pytest.mark.slow  # a server process per test


def test_api_is_described_and_errors_name_what_was_wrong(rlops_server):
    api = httpx.Client(base_url=rlops_server.url)
    paths = api.get("/openapi.json").json()["paths"]
    assert {"/api/jobs", "/api/jobs/{name}", "/api/jobs/{name}/metrics", "/api/endpoints",
            "/api/tuning", "/api/version"} <= set(paths)

    missing = api.get("/api/jobs/no-such-job")
    assert missing.status_code == 404
    assert missing.json() == {"error": "No training job named 'no-such-job'. `rlops jobs list` shows the jobs there "
                                       "are.", "type": "NotFound"}
    assert api.get("/api/endpoints/no-such-endpoint").status_code == 404

    not_json = api.post("/api/jobs", content=b"{name: ")
    assert not_json.status_code == 400 and "not JSON" in not_json.json()["error"]
    no_name = api.post("/api/jobs", json={"entry_point": "x.py"})
    assert no_name.status_code == 400 and "'name' is required" in no_name.json()["error"]
    wrong_type = api.post("/api/endpoints", json={"name": "e", "model": "m", "workers": "two"})
    assert wrong_type.status_code == 400 and "'workers' must be int; got 'two'" in wrong_type.json()["error"]
    unknown = api.post("/api/jobs/x/interrupt", json={"why": "test"})
    assert unknown.status_code == 400 and "unknown field(s) 'why'" in unknown.json()["error"]
    bad_query = api.get("/api/jobs", params={"status": "Running"})
    assert bad_query.status_code == 400 and "Unknown status 'Running'" in bad_query.json()["error"]
    assert api.get("/api/jobs", params={"limit": "many"}).status_code == 400


def test_sdk_errors_keep_their_class_through_the_server(rlops_server, tmp_path):
    jobs = Session().service.jobs
    with pytest.raises(NotFound, match="No training job named 'nope'"):
        jobs.describe("nope")
    with pytest.raises(NotFound):
        list(jobs.logs("nope"))


def test_nothing_is_written_outside_the_servers_folders(rlops_server, rlops_home, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")  # not under the test's tmp_path, which the server may write
    estimator = RLEstimator(entry_point="contract.py", source_dir=str(SCRIPTS), toolkit="sb3",
                            output_path=str(elsewhere / "out"))
    with pytest.raises(UsageError, match="output_path .* lies outside the folders this server writes to"):
        estimator.fit(logs=False, job_name="outside-job")
    with pytest.raises(NotFound):
        Session().service.jobs.describe("outside-job")
    assert list(elsewhere.iterdir()) == []
    answer = httpx.post(f"{rlops_server.url}/api/transform",
                        json={"model": "m", "source": "in.jsonl", "target": str(elsewhere / "out.jsonl")})
    assert answer.status_code == 400 and "target" in answer.json()["error"]


def test_a_server_that_is_down_is_one_clear_error(rlops_home):
    address = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ServerUnavailable, match=f"No rlops server answers at {address}.*rlops server"):
        Session(server=address).service.jobs.list()


def test_a_server_of_another_version_is_refused_naming_both(rlops_home):
    class OtherVersion(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"rlops": "9.0.0", "api": API_VERSION + 1}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), OtherVersion)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with pytest.raises(ServerUnavailable, match=rf"{address} runs rlops 9.0.0 \(API {API_VERSION + 1}\); this "
                                                    rf"client is rlops 0.1.0 \(API {API_VERSION}\)"):
            Session(server=address).service.endpoints.list()
    finally:
        server.shutdown()


def test_beyond_loopback_every_page_and_call_needs_the_token(rlops_home, tmp_path, monkeypatch):
    server = ServerProcess(rlops_home, [tmp_path], host="0.0.0.0")  # reached on 127.0.0.1 only
    try:
        token_file = rlops_home / "server-token"
        token = token_file.read_text().strip()
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert server.log.read_text().count(token) == 1  # shown once, when it was made

        for path in ("/api/jobs", "/api/version", "/openapi.json"):
            refused = httpx.get(server.url + path)
            assert refused.status_code == 401 and "token" in refused.json()["error"]
        page = httpx.get(server.url + "/jobs")
        assert page.status_code == 401 and "needs its token" in page.text
        assert httpx.get(server.url + "/api/jobs", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert httpx.get(server.url + "/api/jobs", headers={"Authorization": f"Bearer {token}"}).json() == []

        browser = httpx.Client(base_url=server.url, follow_redirects=True)
        assert browser.get("/login", params={"token": token}).status_code == 200  # the cookie opens the pages
        assert "Training jobs" in browser.get("/jobs").text

        with pytest.raises(ServerUnavailable, match="wants its token"):
            Session(server=server.url).service.jobs.list()
        monkeypatch.setenv("RLOPS_TOKEN", token)
        assert Session(server=server.url).service.jobs.list() == []
    finally:
        server.stop()


def test_the_cli_uses_the_server(rlops_server, estimator_factory):
    estimator = estimator_factory("emit_metrics.py")
    estimator.fit(logs=False)
    name = estimator.latest_training_job.name
    runner = CliRunner()
    listed = runner.invoke(cli, ["jobs", "list"])
    assert listed.exit_code == 0 and name in listed.output and "Completed" in listed.output
    metrics = runner.invoke(cli, ["jobs", "metrics", name])
    assert metrics.exit_code == 0 and "reward-training" in metrics.output
    missing = runner.invoke(cli, ["jobs", "describe", "nope"])
    assert missing.exit_code == 1 and "No training job named 'nope'" in missing.output


def test_a_tuning_job_through_the_server_and_its_pages(rlops_server, estimator_factory):
    from rlops.tuner import ContinuousParameter, HyperparameterTuner

    estimator = estimator_factory("tunable.py", hyperparameters={"steps": 3},
                                  metric_definitions=[{"Name": "score", "Regex": r"score=(\S+)"}])
    tuner = HyperparameterTuner(estimator, "score", {"x": ContinuousParameter(0.0, 1.0)}, strategy="Random",
                                max_jobs=2, max_parallel_jobs=2, random_seed=1)
    tuner.fit(job_name="served-tuning")
    assert tuner.describe()["HyperParameterTuningJobStatus"] == "Completed"
    trials = Session().service.tuning.trials("served-tuning")
    assert len(trials) == 2 and all(t.final_objective is not None for t in trials)

    listed = httpx.get(f"{rlops_server.url}/tuning")
    assert listed.status_code == 200 and "served-tuning" in listed.text and "Completed" in listed.text
    page = httpx.get(f"{rlops_server.url}/tuning/served-tuning")
    assert page.status_code == 200
    assert all(t.training_job_name in page.text for t in trials) and "rlops.objectiveChart" in page.text
    assert httpx.get(f"{rlops_server.url}/tuning/no-such-tuning").status_code == 404

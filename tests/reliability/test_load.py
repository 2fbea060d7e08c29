"""Many jobs at once: submitted together from several processes into one store, every one accounted for, with
the right status and its metrics, and no database-locked error reaching anyone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import SCRIPTS
from tests.reliability.conftest import size

SUBMIT = """
import sys
from rlops.rl import RLEstimator
names = []
for i in range(int(sys.argv[1])):
    estimator = RLEstimator(entry_point="emit_metrics.py", source_dir=sys.argv[2], toolkit="sb3", output_path=sys.argv[3],
                            base_job_name=f"load-{sys.argv[4]}", hyperparameters={"episodes": 3})
    estimator.fit(wait=False)
    names.append(estimator.latest_training_job.name)
print("\\n".join(names))
"""


def test_many_jobs_submitted_at_once_from_several_processes(tmp_path, rlops_home):
    from rlops.session import Session

    processes, per_process = 4, size(25, 50)  # 100 jobs in the short run, 200 in the soak run
    env = {**os.environ, "RLOPS_HOME": str(rlops_home)}
    submitters = [subprocess.Popen([sys.executable, "-c", SUBMIT, str(per_process), str(SCRIPTS), str(tmp_path / "out"),
                                    str(p)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                  for p in range(processes)]
    names = []
    for submitter in submitters:
        out, err = submitter.communicate(timeout=600)
        assert submitter.returncode == 0, err[-3000:]
        assert "locked" not in err.lower(), err[-3000:]
        names += out.split()
    assert len(names) == len(set(names)) == processes * per_process
    jobs = Session().service.jobs
    finished = [jobs.wait(name, poll=0.2) for name in names]
    problems = {job.name: (job.status, job.failure_reason) for job in finished if job.status != "Completed"}
    assert not problems
    listed = {job.name for job in jobs.list(name_contains="load-")}
    assert listed == set(names)  # no job lost, none extra
    for job in finished:
        assert [t["status"] for t in job.transitions] == ["Starting", "Downloading", "Training", "Uploading",
                                                          "Completed"], job.name
        points = jobs.metrics(job.name)
        assert len([p for p in points if p.name == "reward-training"]) == 3, job.name
        supervisor_log = Path(job.work_dir, "supervisor.log").read_text()
        assert "locked" not in supervisor_log.lower() and "Traceback" not in supervisor_log, job.name

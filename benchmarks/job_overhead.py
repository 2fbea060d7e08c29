"""What a training job adds to a trivial script: ``fit()`` against ``python script.py``.

Both run the same script, interleaved, in one run of this benchmark, so the machine's noise hits
both alike. The fit() side is what a notebook sees: from the call to its return, with the
job's log streamed, its directory laid out, its model packaged and its status recorded.

    python benchmarks/job_overhead.py [--runs 15]

Target (issue 2): at most 1 second added per job.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

SCRIPT = """\
import os
print("hello from a trivial job")
model_dir = os.environ.get("SM_MODEL_DIR", ".")
with open(os.path.join(model_dir, "model.txt"), "w") as f:
    f.write("trivial")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15, help="runs of each side (default 15)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="rlops-bench-"))
    os.environ["RLOPS_HOME"] = str(work / "home")
    source = work / "src"
    source.mkdir()
    (source / "train.py").write_text(SCRIPT)
    direct_dir = work / "direct"
    direct_dir.mkdir()

    from rlops.rl import RLEstimator

    estimator = RLEstimator(entry_point="train.py", source_dir=str(source), toolkit="sb3",
                            output_path=str(work / "out"), hyperparameters={"episodes": 1})
    estimator.fit(logs=False)  # warm: create the store, fill the OS page cache

    direct, through_fit = [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, str(source / "train.py")], check=True, cwd=direct_dir,
                       env={**os.environ, "SM_MODEL_DIR": str(direct_dir)}, stdout=subprocess.DEVNULL)
        direct.append(time.perf_counter() - started)

        started = time.perf_counter()
        with redirect_stdout(io.StringIO()):
            estimator.fit()  # logs streamed (into a buffer), as a notebook would show them
        through_fit.append(time.perf_counter() - started)

    rows = [("python train.py", direct), ("RLEstimator.fit()", through_fit)]
    print(f"Trivial job, {args.runs} runs each, interleaved ({os.cpu_count()} CPUs, Python {sys.version.split()[0]})\n")
    print(f"{'':<20}{'median s':>10}{'mean s':>10}{'min s':>10}{'max s':>10}")
    for label, times in rows:
        print(f"{label:<20}{statistics.median(times):>10.3f}{statistics.mean(times):>10.3f}"
              f"{min(times):>10.3f}{max(times):>10.3f}")
    added = statistics.median(through_fit) - statistics.median(direct)
    ratio = statistics.median(through_fit) / statistics.median(direct)
    print(f"\nAdded by fit(): {added:.3f} s per job (median), {ratio:.1f}x the direct run; target <= 1.000 s: "
          f"{'met' if added <= 1.0 else 'NOT met'}")


if __name__ == "__main__":
    main()

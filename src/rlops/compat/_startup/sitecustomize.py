"""Run at the start of every Python process of an rlops job (this folder is on the job's ``PYTHONPATH``).

SageMaker RL notebooks ship ``common/sagemaker_rl/`` beside their scripts, and the scripts import
``sagemaker_rl.ray_launcher``; that copy hard-codes the container's ``/opt/ml`` paths and Ray 1.x
(TensorFlow export, ``ray.rllib.agents``). In a job, the name resolves to rlops's
``SageMakerRayLauncher`` (Ray 2.x, RLlib on PyTorch) instead, whichever copy sits beside the script;
the rest of the shipped package imports as it is. A ``sitecustomize`` further on the path still runs.
"""

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys

#: SageMaker's module name, and rlops's module that stands in for it.
ALIASES = {"sagemaker_rl.ray_launcher": "rlops.toolkits.rllib.launcher"}


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname in ALIASES:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        print(f"rlops: {spec.name} is rlops's {ALIASES[spec.name]} in this job (Ray 2.x, RLlib on PyTorch)",
              file=sys.stderr, flush=True)
        return importlib.import_module(ALIASES[spec.name])

    def exec_module(self, module):
        pass  # rlops's module is already imported


sys.meta_path.insert(0, _Alias())


def _run_the_next_sitecustomize():
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec and spec.loader and spec.origin != os.path.abspath(__file__):
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


_run_the_next_sitecustomize()

"""Toolkit launchers: the code that runs inside a job process and drives an RL library.

Launchers know nothing of the job store or the server; they read the job contract (``SM_*``
variables and the ``/opt/ml`` layout) and print Coach's log lines, which the runtime turns into
metrics.
"""

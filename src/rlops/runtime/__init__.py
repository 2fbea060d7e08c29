"""The job runtime: job specs, the per-host layout, the supervisor process and the local backend.

Nothing here knows about estimators; the SDK hands a :class:`~rlops.runtime.spec.JobSpec` to
:class:`~rlops.runtime.local.LocalBackend`.
"""

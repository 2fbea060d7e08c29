"""The job runtime: the runtime service, job specs, the per-host layout, the supervisor and endpoints.

Nothing here knows about estimators; the SDK hands a :class:`~rlops.runtime.spec.JobSpec` to
the runtime service (:mod:`rlops.runtime.service`), implemented on this machine by
:class:`~rlops.runtime.local.LocalRuntime`.
"""

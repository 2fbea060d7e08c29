"""The ``rlops`` command line. Nothing imports it."""

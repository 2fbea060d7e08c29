"""An endpoint's server process: ``python -m rlops.serving.endpoint NAME``.

Started by :mod:`rlops.runtime.endpoints` in a session of its own; reads the endpoint's model,
port and worker count from the store and serves until it is sent SIGTERM. With several workers,
uvicorn's process manager (this process) keeps them running behind the one port.
"""

from __future__ import annotations

import sys

from rlops.serving.server import serve
from rlops.store.endpoints import EndpointStore


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m rlops.serving.endpoint ENDPOINT_NAME", file=sys.stderr)
        return 2
    record = EndpointStore().get(argv[0])
    # A restarted endpoint reuses its port: give the processes of a server that just died time to let go.
    serve(record.model_dir, record.host, record.port, record.workers, log_level="info", port_wait_s=10.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())

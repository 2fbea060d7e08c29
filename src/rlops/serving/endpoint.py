"""An endpoint's server process: ``python -m rlops.serving.endpoint MODEL_DIR --host H --port P --workers N``.

Started by :mod:`rlops.runtime.endpoints` in a session of its own, with everything it needs on
its command line (it never opens the store), and serves until it is sent SIGTERM. With several
workers, uvicorn's process manager (this process) keeps them running behind the one port.
"""

from __future__ import annotations

import argparse
import sys

from rlops.serving.server import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rlops.serving.endpoint", description=__doc__.split("\n")[0])
    parser.add_argument("model_dir", help="the endpoint's unpacked portable policy")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    # A restarted endpoint reuses its port: give the processes of a server that just died time to let go.
    serve(args.model_dir, args.host, args.port, args.workers, log_level="info", port_wait_s=10.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())

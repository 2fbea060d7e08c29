"""``python -m rlops``: the same command line as ``rlops``."""

from rlops.cli.main import main

if __name__ == "__main__":
    main()

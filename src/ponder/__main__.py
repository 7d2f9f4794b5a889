"""``python -m ponder``: the ``ponder`` command."""

from ponder.cli.main import main

if __name__ == "__main__":
    main()

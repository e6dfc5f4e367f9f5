"""``python -m hpreg`` runs the ``hpreg`` command."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())

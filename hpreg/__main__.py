"""``python -m hpreg`` runs the ``hpreg`` command."""

from hpreg.cli.app import main

if __name__ == "__main__":
    raise SystemExit(main())

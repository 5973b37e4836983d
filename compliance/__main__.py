"""``python -m compliance``: the ``mapgate`` command without its entry-point script."""

from compliance.cli.main import main

__all__: list[str] = []

if __name__ == "__main__":
    main()

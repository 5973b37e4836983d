"""The ``mapgate`` command, run as a real process."""

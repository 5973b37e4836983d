"""The ``mapgate`` command line: one module per subcommand."""

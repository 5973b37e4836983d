"""The service's browser side: the page at ``/`` and the offline API docs."""

__all__: list[str] = []  # a folder of modules; each declares its own names

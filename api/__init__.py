"""mapgate's HTTP service: translates requests into ``compliance.Checker`` calls."""

__all__: list[str] = []

"""HTTP routes; each module adapts one resource to library or store calls."""

__all__: list[str] = []

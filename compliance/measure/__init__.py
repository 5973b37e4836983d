"""Facts about the data (vector detail, raster lattices, CRS plausibility, declared scale); no rules."""

__all__: list[str] = []

"""Batch audits (``mapgate audit``, ``compliance.audit()``): discovery, local and Dask pools,
results on disk, the report."""

__all__: list[str] = []  # a folder of modules; each declares its own names

"""Batch audits (``mapgate audit``, ``compliance.audit()``): discovery, local and Dask pools,
results on disk, the report."""

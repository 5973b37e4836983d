"""Batch audits: discovery, local and Dask pools, results on disk, the report."""

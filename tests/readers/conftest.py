"""Readers: every input (path, bytes, zip, upload) becomes an open source, and nothing else is
read."""

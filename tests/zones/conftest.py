"""Zones and territories: loading, ground buffers, indexes in many CRSs, overlap counts."""

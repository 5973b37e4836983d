"""HTTP routes; each module adapts one resource to library or store calls."""

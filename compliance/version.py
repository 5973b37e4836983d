"""The engine version stamped on every verdict."""

ENGINE_VERSION = "mapgate 0.1.0"

"""The engine version stamped on every verdict."""

__all__ = ["ENGINE_VERSION"]

ENGINE_VERSION = "mapgate 0.1.0"

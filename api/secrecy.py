"""What a submitter sees of the sensitive zones: the library's undisclosed view of a
verdict (``compliance.disclosure``). Auditors see the stored verdict whole; verdicts are
stored whole and withheld when they are read, so an auditor always sees what the check
found."""

from __future__ import annotations

from compliance.disclosure import undisclosed_verdict as submitter_verdict
from compliance.disclosure import zones_touched

__all__ = ["submitter_verdict", "zones_touched"]

"""Destination countries: ISO 3166-1 alpha-2 codes, validated against the standard's list."""

from __future__ import annotations

__all__ = ["country_code"]


def country_code(value: str | None) -> str | None:
    """``value`` as an upper-case ISO 3166-1 alpha-2 code (None stays None).

    Raises
    ------
    ValueError
        ``value`` is not an assigned alpha-2 code; the message suggests the code when
        ``value`` is a country's alpha-3 code or name.
    """
    if value is None or not value.strip():
        return None
    import pycountry  # loads its tables on first use: only when a destination is given

    text = value.strip()
    code = text.upper()
    if len(code) == 2 and pycountry.countries.get(alpha_2=code) is not None:
        return code
    shown = text[:40]
    try:
        match = pycountry.countries.lookup(text)
    except LookupError:
        match = None
    hint = f"; did you mean {match.alpha_2} ({match.name})?" if match is not None else ""
    raise ValueError(
        f"destination must be an ISO 3166-1 alpha-2 country code such as US or KR, "
        f"not {shown!r}{hint}"
    )

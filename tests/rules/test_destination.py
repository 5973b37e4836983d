"""The destination a library caller gives is an ISO 3166-1 alpha-2 code, checked before
anything is read, as the command line and the service check it."""

from __future__ import annotations

import pytest

from compliance import Checker
from tests.builders import SAMPLES

KR_5K = SAMPLES / "kr_5k_buildings.gpkg"


@pytest.mark.parametrize("given", ["XX", "united states", "KOR", "K", "12"])
def test_a_destination_that_is_no_country_code_is_refused(checker: Checker, given: str) -> None:
    with pytest.raises(ValueError, match="ISO 3166-1 alpha-2"):
        checker.check(KR_5K, destination=given)


def test_a_country_named_otherwise_gets_its_code_suggested(checker: Checker) -> None:
    with pytest.raises(ValueError, match="did you mean KR"):
        checker.check(KR_5K, destination="KOR")


@pytest.mark.parametrize("given", ["kr", "KR", " kr "])
def test_a_code_in_any_case_is_read_as_the_code(checker: Checker, given: str) -> None:
    v = checker.check(KR_5K, destination=given)
    # Staying in Korea needs no export permit: the permit rule does not fire for KR.
    assert not any(f.rule_id == "KR-SCALE-25K" for f in v.findings)
    abroad = checker.check(KR_5K, destination="US")
    assert any(f.rule_id == "KR-SCALE-25K" for f in abroad.findings)

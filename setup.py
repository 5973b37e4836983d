"""Build step beyond pyproject.toml: put the built-in rule packs into the wheel.

rules/ stays the only copy in the repository; a wheel (and a plain ``pip install .``)
carries it as ``compliance/builtin_rules`` so that an installed mapgate needs no checkout.
An editable install reads rules/ where it lies (compliance.locations).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

# What an installed checker reads: the packs, their territories (with the README naming
# their sources and licences) and the demo zones; the scripts that rebuild them stay out.
RULE_FILES = ("*.yaml", "territories/*.geojson", "territories/*.csv", "territories/*.md",
              "zones/*.geojson")  # fmt: skip


class BuildPyWithRules(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        source = Path(__file__).resolve().parent / "rules"
        target = Path(self.build_lib) / "compliance" / "builtin_rules"
        for pattern in RULE_FILES:
            for path in sorted(source.glob(pattern)):
                dest = target / path.relative_to(source)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, dest)


setup(cmdclass={"build_py": BuildPyWithRules})

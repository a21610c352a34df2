"""The repository is all a user has: no tracked file reads, links or names a path
outside its root (the original specs beside the workplace's checkout are not shipped)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: A relative path that climbs out of its directory: ``../x``, ``../../x``.
_CLIMBING = re.compile(r"(?<![\w.])((?:\.\./)+)([\w.-]*)")
#: Ways Python code reaches above the checkout.
_ABOVE_ROOT = re.compile(
    r"(ROOT|BASE_DIR)\.parent\b|parent\.parent\.parent|/work/|\bshared/(spec|legacy)"
)


def tracked_text_files() -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    files = []
    for name in filter(None, names):
        path = ROOT / name.decode()
        if path.suffix in {".mo", ".png", ".jpg", ".pdf", ".docx", ".bin"} or not path.is_file():
            continue
        files.append(path)
    return files


def test_no_tracked_file_points_outside_the_repository():
    offenders = []
    for path in tracked_text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if path == Path(__file__):
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            for climb, rest in _CLIMBING.findall(line):
                target = (path.parent / climb / rest).resolve()
                if not target.is_relative_to(ROOT):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {climb}{rest}")
            if _ABOVE_ROOT.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:80]}")
    assert offenders == []


def test_the_schema_contract_and_the_legacy_schema_are_in_the_repository():
    assert "## Enum types" in (ROOT / "docs" / "schema.md").read_text()
    assert (
        "CREATE TABLE projects"
        in (ROOT / "projects" / "migrations" / "legacy_schema.sql").read_text()
    )

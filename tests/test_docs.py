"""Every document the repository points at is in the repository (no database; fast).

Scans the tracked text files (``git ls-files``): each mention of a ``*.md`` file and each
relative Markdown link must resolve to a tracked file or folder, relative to the file that
mentions it or to the repository root. The design notes that once lived outside the
repository, and paths out of it into a sibling ``shared`` folder, must not be named at all:
the repository stands on its own (the real public payloads the tests read are found through
``tests/realdata.py`` only).
"""

from __future__ import annotations

import posixpath
import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(30)

REPO = Path(__file__).resolve().parents[1]
THIS = "tests/test_docs.py"

TEXT_SUFFIXES = {".py", ".sql", ".yml", ".yaml", ".toml", ".md", ".txt", ".sh", ".cfg", ".ini"}
TEXT_NAMES = {"Makefile", "run", ".gitignore"}

# Names that must not appear anywhere (spelled in pieces so this file does not trip itself).
FORBIDDEN = ["DESIGN" + ".md", "STYLE" + ".md", "TRYTON" + ".md", ".." + "/shared"]

URL = re.compile(r"[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
# a file name ending in .md (not a call such as MetadataValue.md(...))
MD_MENTION = re.compile(r"(?<![\w./-])((?:\.{1,2}/)?[\w-][\w./-]*\.md)\b(?!\()")
MD_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def tracked_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True, text=True
    ).stdout
    return [p for p in out.split("\0") if p]


def text_files(tracked: list[str]) -> list[str]:
    return [
        p
        for p in tracked
        if (Path(p).suffix in TEXT_SUFFIXES or Path(p).name in TEXT_NAMES)
        and (REPO / p).is_file()
        and p != THIS  # not its own planted examples
    ]


def resolves(
    target: str, source: str, tracked: set[str], folders: set[str], from_root: bool = True
) -> bool:
    """``target`` names a tracked file or folder, from ``source``'s folder (or the root,
    for a mention in prose or code; a Markdown link is relative to its file only)."""
    target = target.split("#", 1)[0].rstrip("/")
    if not target:
        return True  # an anchor in the same file
    bases = [posixpath.dirname(source), ""] if from_root else [posixpath.dirname(source)]
    for base in bases:
        path = posixpath.normpath(posixpath.join(base, target))
        if path in tracked or path in folders:
            return True
    return False


def broken_references(files: list[str], tracked: list[str], root: Path = REPO) -> list[str]:
    """Each reference in ``files`` (paths under ``root``) that points at nothing in
    ``tracked``, or at a forbidden name, as ``file:line: what``."""
    tracked_set = set(tracked)
    folders = {posixpath.dirname(p) for p in tracked}
    folders |= {f for p in folders for f in _parents(p)}
    problems = []
    for source in files:
        text = (root / source).read_text(errors="replace")
        for lineno, line in enumerate(text.splitlines(), 1):
            where = f"{source}:{lineno}"
            for name in FORBIDDEN:
                if name in line:
                    problems.append(f"{where}: names {name}, which is not in the repository")
            if source.endswith(".md"):
                for target in MD_LINK.findall(line):
                    if URL.match(target) or target.startswith(("mailto:", "#")):
                        continue
                    if not resolves(target, source, tracked_set, folders, from_root=False):
                        problems.append(f"{where}: link to {target}, which does not exist")
                line = MD_LINK.sub(" ", line)  # a link's target is checked once, above
            for mention in MD_MENTION.findall(URL.sub(" ", line)):
                if not resolves(mention, source, tracked_set, folders):
                    problems.append(f"{where}: mentions {mention}, which does not exist")
    return sorted(set(problems))


def _parents(folder: str) -> list[str]:
    parts = folder.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def test_every_referenced_document_exists() -> None:
    tracked = tracked_files()
    problems = broken_references(text_files(tracked), tracked)
    assert not problems, "references to files not in the repository:\n" + "\n".join(problems)


def test_the_check_finds_a_bad_reference(tmp_path: Path) -> None:
    """The scan above can fail: planted references to missing files are found."""
    tracked = tracked_files()
    planted = "docs/planted.md"
    (tmp_path / "docs").mkdir()
    (tmp_path / planted).write_text(
        "See [the plan](missing-plan.md), [ops](operating.md), NOWHERE.md, README.md and the\n"
        "notes in " + ".." + "/shared.\n"
    )
    problems = broken_references([planted], [*tracked, planted], root=tmp_path)
    assert len(problems) == 3, problems
    assert any("link to missing-plan.md" in p for p in problems), problems
    assert any("mentions NOWHERE.md" in p for p in problems), problems
    assert any("names ../shared" in p for p in problems), problems

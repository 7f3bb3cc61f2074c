"""partita's docs and code comments speak of partita and its users.

Work-log wording (development sessions, closing notes, internal design-note files)
does not belong in what users and maintainers read: the git history keeps how things
were made. This test scans the documentation and the shipped sources for a short
list of such phrases and fails naming file:line for each hit. It needs no build.
"""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]

# Scanned: every text file under these folders, plus these top-level files.
FOLDERS = ["docs", "include", "src", "python", "notebooks", "benchmarks", "tools", "scripts",
           "examples"]
FILES = ["README.md", "CHANGELOG.md"]

# Case-insensitive; whole words, so "round trip" and "briefly" do not match.
PHRASES = [
    r"\bsessions?\b",
    r"\bclosing notes?\b",
    r"\bDESIGN\.md\b",
    r"\bSTYLE\.md\b",
    r"\bstatus\.md\b",
    r"\bearlier rounds?\b",
    r"\bbrief\b",
]
PATTERN = re.compile("|".join(PHRASES), re.IGNORECASE)

# Data files that are not prose (weights, audio, logs of numbers) are skipped.
SKIP_SUFFIXES = {".safetensors", ".mid", ".midi", ".wav", ".sf2", ".npy", ".npz", ".png",
                 ".jpg", ".so", ".pyc"}


def scanned_files():
    for name in FILES:
        path = ROOT / name
        if path.is_file():
            yield path
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*")):
            if not path.is_file() or path.suffix.lower() in SKIP_SUFFIXES:
                continue
            if any(part in ("__pycache__", ".ipynb_checkpoints") for part in path.parts):
                continue
            yield path


def text_of(path):
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None  # binary
    return data.decode("utf-8", errors="replace")


def find_hits():
    hits = []
    for path in scanned_files():
        text = text_of(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            match = PATTERN.search(line)
            if match:
                rel = path.relative_to(ROOT).as_posix()
                hits.append(f"{rel}:{number}: {match.group(0)!r}: {line.strip()[:160]}")
    return hits


def test_pattern_catches_work_log_phrases():
    for bad in ["Session 3 closing note", "see DESIGN.md", "as the brief says",
                "tried in an earlier round", "docs/status.md", "STYLE.md rule"]:
        assert PATTERN.search(bad), bad
    for fine in ["a MIDI round trip", "spin briefly, then sleep", "pytest fixture",
                 "the design of the editor", "status of the model"]:
        assert not PATTERN.search(fine), fine


def test_scan_reaches_the_sources():
    names = {p.relative_to(ROOT).as_posix() for p in scanned_files()}
    assert "README.md" in names
    assert any(n.startswith("include/partita/") and n.endswith(".hpp") for n in names)
    assert any(n.startswith("src/") and n.endswith(".cpp") for n in names)
    assert any(n.startswith("docs/") and n.endswith(".md") for n in names)


def test_docs_and_comments_have_no_work_log_wording():
    hits = find_hits()
    assert not hits, ("work-log wording (say what partita does and why; cite public "
                      "sources):\n" + "\n".join(hits))

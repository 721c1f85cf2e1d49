"""Our own strings have Chinese translations, and the compiled catalog matches its source."""

import os
import subprocess
import sys

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZH = os.path.join(ROOT, "app", "translations", "zh", "LC_MESSAGES")


def _catalog(path, reader):
    def key(value):  # plural entries come as lists or tuples
        return tuple(value) if isinstance(value, (list, tuple)) else value

    with open(path, "rb") as handle:
        return {key(m.id): key(m.string) for m in reader(handle) if m.id}


def test_every_string_of_ours_is_translated_to_chinese(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract",
                    "-F", "babel.cfg", "-k", "_l", "-k", "_N", "-o", str(pot), "."],
                   cwd=ROOT, check=True)
    extracted = _catalog(pot, read_po)
    translated = _catalog(os.path.join(ZH, "messages.po"), read_po)
    missing = sorted(str(i) for i in extracted
                     if not translated.get(i) or not all(translated[i]))
    assert not missing, "untranslated (see README, Translations): " + "; ".join(missing)


def test_compiled_catalog_matches_its_source():
    source = _catalog(os.path.join(ZH, "messages.po"), read_po)
    compiled = _catalog(os.path.join(ZH, "messages.mo"), read_mo)
    assert compiled == {k: v for k, v in source.items() if v and all(v)}, \
        "run: pybabel compile -d app/translations"

"""The translation catalogs: every entry translated, the compiled files up to
date, and no fan-facing template with English text left unmarked."""

from __future__ import annotations

import ast
import gettext
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

PACKAGE = Path(settings.BASE_DIR) / "onsale"
CATALOGS = sorted(PACKAGE.glob("*/locale/*/LC_MESSAGES/django.po"))

# The fan pages whose every string is marked for translation.
TRANSLATED_TEMPLATES = [
    "platform/templates/base.html",
    *(
        f"platform/templates/errors/{name}.html"
        for name in ("400", "403", "404", "500", "503", "page")
    ),
    "usermgmt/templates/usermgmt/_form_fields.html",
    "usermgmt/templates/usermgmt/account.html",
    "usermgmt/templates/usermgmt/login.html",
    "usermgmt/templates/usermgmt/signup.html",
    "events/templates/events/home.html",
    "seatselection/templates/seatselection/event.html",
    "seatselection/templates/seatselection/_moment.html",
    "orders/templates/orders/not_found.html",
    "orders/templates/orders/order_cancel.html",
    "orders/templates/orders/order_detail.html",
    "orders/templates/orders/order_list.html",
]
# Words that are the same in every language.
UNTRANSLATABLE = {"onsale"}
NOT_YET_MARKED: dict[str, set[str]] = {}


@dataclass
class Entry:
    msgid: str
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    fuzzy: bool = False
    line: int = 0


def parse_po(path: Path) -> list[Entry]:
    """The entries of a .po file (the header, msgid "", left out), read with
    Python's own string-literal parsing."""
    entries: list[Entry] = []
    entry: Entry | None = None
    flags: set[str] = set()
    key = ""
    lines = path.read_text(encoding="utf-8").splitlines()

    def close() -> None:
        nonlocal entry, flags
        if entry is not None and entry.msgid != "":
            entries.append(entry)
        entry, flags = None, set()

    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text:
            close()
            continue
        if text.startswith("#,"):
            flags |= {flag.strip() for flag in text[2:].split(",")}
            continue
        if text.startswith("#"):
            continue
        match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[(\d+)\])?)\s+(".*")$', text)
        if match:
            if match.group(1) == "msgid":
                fuzzy = "fuzzy" in flags
                close()
                entry = Entry(msgid="", fuzzy=fuzzy, line=number)
            assert entry is not None, f"{path}:{number}: {match.group(1)} before msgid"
            key = match.group(1)
            value = ast.literal_eval(match.group(3))
        else:
            assert text.startswith('"'), f"{path}:{number}: cannot read {raw!r}"
            assert entry is not None
            value = ast.literal_eval(text)
        if key == "msgid":
            entry.msgid += value
        elif key == "msgid_plural":
            entry.msgid_plural = (entry.msgid_plural or "") + value
        else:
            index = int(key[7:-1]) if key.startswith("msgstr[") else 0
            entry.msgstr[index] = entry.msgstr.get(index, "") + value
    close()
    return entries


def test_every_language_but_english_has_catalogs():
    languages = {path.parts[-3] for path in CATALOGS}
    assert languages == {code for code, _name in settings.LANGUAGES} - {"en"}
    apps = {path.relative_to(PACKAGE).parts[0] for path in CATALOGS}
    assert {"platform", "usermgmt", "events", "seatselection", "orders"} <= apps


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_entry_is_translated_and_none_is_fuzzy(path):
    entries = parse_po(path)

    assert entries, f"{path} has no entries"
    untranslated = [
        f"line {e.line}: {e.msgid!r}"
        for e in entries
        if e.fuzzy or not e.msgstr or any(not text for text in e.msgstr.values())
    ]
    assert untranslated == []


def test_the_po_parser_finds_an_empty_and_a_fuzzy_entry(tmp_path):
    catalog = tmp_path / "django.po"
    catalog.write_text(
        'msgid ""\nmsgstr ""\n"Language: de\\n"\n\n'
        'msgid "Done"\nmsgstr "Fertig"\n\n'
        '#, fuzzy, python-format\nmsgid "Hi %(name)s"\nmsgstr "Hallo %(name)s"\n\n'
        'msgid ""\n"Two "\n"lines"\nmsgstr ""\n\n'
        'msgid "one"\nmsgid_plural "many"\nmsgstr[0] "eins"\nmsgstr[1] ""\n',
        encoding="utf-8",
    )

    entries = parse_po(catalog)

    assert [(e.msgid, e.fuzzy, e.msgstr) for e in entries] == [
        ("Done", False, {0: "Fertig"}),
        ("Hi %(name)s", True, {0: "Hallo %(name)s"}),
        ("Two lines", False, {0: ""}),
        ("one", False, {0: "eins", 1: ""}),
    ]


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_compiled_catalog_matches_its_po_file(path):
    """The committed .mo is what `manage.py messages_update` makes of the .po:
    an edited translation that was not compiled fails here."""
    with path.with_suffix(".mo").open("rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)._catalog

    expected: dict[object, str] = {}
    for entry in parse_po(path):
        if entry.msgid_plural is None:
            expected[entry.msgid] = entry.msgstr[0]
        else:
            for index, text in entry.msgstr.items():
                expected[(entry.msgid, index)] = text
    compiled_entries = {key: text for key, text in catalog.items() if key != ""}
    assert compiled_entries == expected


def test_the_package_installs_the_compiled_catalogs():
    """The image installs `onsale` as a package: the catalogs must be package
    data (pyproject.toml), as the templates are."""
    pyproject = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["*"]
    compiled = sorted(PACKAGE.glob("*/locale/*/LC_MESSAGES/django.mo"))

    left_out = [
        str(path.relative_to(PACKAGE))
        for path in compiled
        if not any(
            path in (PACKAGE / path.relative_to(PACKAGE).parts[0]).glob(pattern)
            for pattern in patterns
        )
    ]

    assert compiled and left_out == []


def _visible_words(template: str) -> list[str]:
    """English words a fan would read that no translation tag covers: text
    between tags and the values of alt, title, placeholder and aria-label."""
    text = re.sub(
        r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", " ", template, flags=re.S
    )
    text = re.sub(
        r"{%\s*blocktranslate\b.*?{%\s*endblocktranslate\s*%}", " ", text, flags=re.S
    )
    text = re.sub(r"{%\s*translate\b.*?%}", " ", text)
    text = re.sub(r"{#.*?#}", " ", text)
    attributes = re.findall(r'(?:alt|title|placeholder|aria-label)="([^"]*)"', text)
    text = re.sub(r"{%.*?%}|{{.*?}}", " ", text, flags=re.S)
    shown = re.sub(r"<[^>]*>", " ", text)
    shown += " " + " ".join(
        re.sub(r"{%.*?%}|{{.*?}}", " ", value) for value in attributes
    )
    shown = re.sub(r"&[a-z]+;|&#\d+;", " ", shown)
    return re.findall(r"[A-Za-z]{2,}", shown)


def test_the_word_finder_sees_unmarked_text_and_attributes():
    found = _visible_words(
        '{% load i18n %}<p title="Hello there">{% translate "Done" %} Left over</p>'
        "{% blocktranslate %}Hi {{ name }}{% endblocktranslate %}{{ event.name }}"
        '<img alt="{% translate "A picture" %}">{% comment %}A note{% endcomment %}'
    )

    assert found == ["Left", "over", "Hello", "there"]


@pytest.mark.parametrize("name", TRANSLATED_TEMPLATES)
def test_no_fan_template_has_unmarked_english(name):
    template = (PACKAGE / name).read_text(encoding="utf-8")

    words = [
        word
        for word in _visible_words(template)
        if word not in UNTRANSLATABLE and word not in NOT_YET_MARKED.get(name, set())
    ]

    assert words == []

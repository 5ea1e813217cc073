"""The translation catalogs (templates and Python in `django.po`, scripts in
`djangojs.po`): every entry translated, the compiled files up to date, and no
fan-facing template with English text left unmarked."""

from __future__ import annotations

import ast
import gettext
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

from onsale.platform.javascript_catalog import JAVASCRIPT_CATALOG_APPS

PACKAGE = Path(settings.BASE_DIR) / "onsale"
CATALOGS = sorted(PACKAGE.glob("*/locale/*/LC_MESSAGES/*.po"))

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
    "seatselection/templates/seatselection/seats.html",
    "orders/templates/orders/not_found.html",
    "orders/templates/orders/order_cancel.html",
    "orders/templates/orders/order_detail.html",
    "orders/templates/orders/order_list.html",
    *(
        f"orders/templates/orders/email/{name}.{kind}"
        for name in ("tickets", "cancelled", "refunded")
        for kind in ("html", "txt")
    ),
    "checkout/templates/checkout/checkout.html",
    "waitingroom/templates/waitingroom/queue.html",
    "waitingroom/templates/waitingroom/_room_state.html",
]
# Words that are the same in every language.
UNTRANSLATABLE = {"onsale"}
NOT_YET_MARKED: dict[str, set[str]] = {}


@dataclass
class Entry:
    msgid: str
    msgctxt: str | None = None
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
    context: str | None = None
    key = ""
    lines = path.read_text(encoding="utf-8").splitlines()

    def close() -> None:
        nonlocal entry, flags, context
        if entry is not None and entry.msgid != "":
            entries.append(entry)
        entry, flags, context = None, set(), None

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
        match = re.match(
            r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[(\d+)\])?)\s+(".*")$', text
        )
        if match:
            value = ast.literal_eval(match.group(3))
            key = match.group(1)
            if key == "msgctxt":
                context = value
                continue
            if key == "msgid":
                fuzzy, entry_context = "fuzzy" in flags, context
                close()
                entry = Entry(msgid="", msgctxt=entry_context, fuzzy=fuzzy, line=number)
            assert entry is not None, f"{path}:{number}: {match.group(1)} before msgid"
        else:
            assert text.startswith('"'), f"{path}:{number}: cannot read {raw!r}"
            value = ast.literal_eval(text)
            if key == "msgctxt":
                context = (context or "") + value
                continue
            assert entry is not None
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
    assert {
        "platform",
        "usermgmt",
        "events",
        "seatselection",
        "orders",
        "waitingroom",
        "checkout",
    } <= apps


def test_every_app_with_translated_scripts_has_a_script_catalog():
    """The apps the JavaScript catalog serves each have a djangojs catalog in
    every language but English (bin/messages makes it)."""
    languages = {code for code, _name in settings.LANGUAGES} - {"en"}
    for app in JAVASCRIPT_CATALOG_APPS:
        folder = PACKAGE / app.removeprefix("onsale.") / "locale"
        for language in languages:
            assert (folder / language / "LC_MESSAGES" / "djangojs.po").is_file(), app
            assert (folder / language / "LC_MESSAGES" / "djangojs.mo").is_file(), app


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
        'msgid "one"\nmsgid_plural "many"\nmsgstr[0] "eins"\nmsgstr[1] ""\n\n'
        'msgctxt "state"\nmsgid "open"\nmsgstr "offen"\n\nmsgid "open"\nmsgstr "auf"\n',
        encoding="utf-8",
    )

    entries = parse_po(catalog)

    assert [(e.msgctxt, e.msgid, e.fuzzy, e.msgstr) for e in entries] == [
        (None, "Done", False, {0: "Fertig"}),
        (None, "Hi %(name)s", True, {0: "Hallo %(name)s"}),
        (None, "Two lines", False, {0: ""}),
        (None, "one", False, {0: "eins", 1: ""}),
        ("state", "open", False, {0: "offen"}),
        (None, "open", False, {0: "auf"}),
    ]


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_compiled_catalog_matches_its_po_file(path):
    """The committed .mo is what `manage.py messages_update` makes of the .po:
    an edited translation that was not compiled fails here."""
    with path.with_suffix(".mo").open("rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)._catalog

    expected: dict[object, str] = {}
    for entry in parse_po(path):
        # gettext keys an entry with a context as "context\x04msgid".
        msgid = (
            entry.msgid
            if entry.msgctxt is None
            else f"{entry.msgctxt}\x04{entry.msgid}"
        )
        if entry.msgid_plural is None:
            expected[msgid] = entry.msgstr[0]
        else:
            for index, text in entry.msgstr.items():
                expected[(msgid, index)] = text
    compiled_entries = {key: text for key, text in catalog.items() if key != ""}
    assert compiled_entries == expected


def test_the_package_installs_the_compiled_catalogs():
    """The image installs `onsale` as a package: the catalogs must be package
    data (pyproject.toml), as the templates are."""
    pyproject = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["*"]
    compiled = sorted(PACKAGE.glob("*/locale/*/LC_MESSAGES/*.mo"))

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


# A script's marked text: gettext("..."), pgettext("context", "..."), and
# ngettext("...", "...", n), with plain double-quoted literals.
_SCRIPT_CALL = re.compile(
    r'\b(gettext|pgettext|ngettext)\(\s*("(?:[^"\\]|\\.)*")'
    r'(?:\s*,\s*("(?:[^"\\]|\\.)*"))?'
)


def _script_messages(source: str) -> set[tuple[str | None, str]]:
    found: set[tuple[str | None, str]] = set()
    for function, first, second in _SCRIPT_CALL.findall(source):
        if function == "pgettext":
            found.add((ast.literal_eval(first), ast.literal_eval(second)))
        else:
            found.add((None, ast.literal_eval(first)))
    return found


def test_the_script_finder_reads_the_three_kinds_of_call():
    found = _script_messages(
        'say(gettext("Hi %(name)s"), {}); pgettext("state", "open");\n'
        'ngettext(\n  "one \\"x\\"",\n  "many", n); gettext(variable);'
    )

    assert found == {(None, "Hi %(name)s"), ("state", "open"), (None, 'one "x"')}


@pytest.mark.parametrize("app", JAVASCRIPT_CATALOG_APPS)
def test_every_script_text_is_in_the_apps_script_catalog(app):
    """A text marked in a script but missing from djangojs.po (bin/messages not
    run) would stay English in every language."""
    folder = PACKAGE / app.removeprefix("onsale.")
    marked: set[tuple[str | None, str]] = set()
    for script in sorted((folder / "static").glob("**/*.js")):
        marked |= _script_messages(script.read_text(encoding="utf-8"))
    for catalog in sorted(folder.glob("locale/*/LC_MESSAGES/djangojs.po")):
        entries = {(entry.msgctxt, entry.msgid) for entry in parse_po(catalog)}

        assert marked and marked - entries == set(), catalog


# The apps whose catalogs are checked against every other app's (the texts
# they share with another app must read the same).
SHARED_TEXT_APPS = ["checkout"]


@pytest.mark.parametrize("app", SHARED_TEXT_APPS)
def test_a_text_shared_with_another_app_has_one_translation(app):
    """Django merges the apps' catalogs and the first app in INSTALLED_APPS
    wins: the same text translated two ways would change another app's page
    (the checkout's "Total" turning the order page's "Gesamt" into another
    word)."""
    differing = []
    for path in (PACKAGE / app).glob("locale/*/LC_MESSAGES/*.po"):
        own = {(e.msgctxt, e.msgid): e.msgstr for e in parse_po(path)}
        for other in CATALOGS:
            if other.relative_to(PACKAGE).parts[0] == app or other.name != path.name:
                continue
            if other.parts[-3] != path.parts[-3]:
                continue
            for entry in parse_po(other):
                mine = own.get((entry.msgctxt, entry.msgid))
                if mine is not None and mine != entry.msgstr:
                    differing.append((entry.msgid, str(other.relative_to(PACKAGE))))

    assert differing == []

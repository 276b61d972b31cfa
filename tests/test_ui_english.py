"""English is complete: every page can be read in English, and no message is left untranslated."""

import re
from pathlib import Path

from django.conf import settings
from django.urls import reverse

PO = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
CJK = re.compile(r"[\u4e00-\u9fff]")


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_every_message_has_an_english_translation():
    text = PO.read_text(encoding="utf-8")
    entries = text.split("\n\n")[1:]
    untranslated = [e for e in entries if re.search(r'^msgstr ""\n*$', e, re.M) and "msgstr[" not in e
                    and not re.search(r'^msgstr ""\n"', e, re.M)]
    assert not untranslated, untranslated[:3]
    assert "#, fuzzy" not in text
    mo = PO.with_suffix(".mo")
    assert mo.exists() and mo.stat().st_mtime >= PO.stat().st_mtime - 5


def test_pages_are_in_english_when_the_language_is_en(client, world):
    client.force_login(world.users.worker_a1)
    english(client)
    page = client.get(reverse("places:building", args=[world.buildings["A1"].pk])).content.decode()
    assert '<html lang="en">' in page
    for words in ("Building view", "Owner-occupied", "Rented", "Vacant", "Legend", "Unit 1", "6F", "Log out"):
        assert words in page
    house = client.get(reverse("places:house", args=[world.houses["A1"][0].pk])).content.decode()
    assert "Current residents" in house and "Past residents" in house and "Move in" in house


def test_english_pages_keep_only_names_and_addresses_in_chinese(client, world):
    """Labels, headings and buttons are English; what remains in Chinese is data (names, addresses)."""
    client.force_login(world.users.worker_a1)
    english(client)
    data = {"张三", "李四", "张小三", "王芳", "元和街道", "社区A", "A1网格", "A1花园", "中国", "简体中文"}
    for url in [reverse("people:person", args=[world.people["张三"].pk]), reverse("people:person_list"),
                reverse("places:house_list"), "/"]:
        page = client.get(url).content.decode()
        page = re.sub(r'<input type="hidden"[^>]*>', "", page)
        text = re.sub(r"<[^>]+>", " ", page)
        for word in data:
            text = text.replace(word, "")
        text = re.sub(r"[\w]*[幢单元室][\w]*", "", text)  # addresses (A1花园1幢1单元101室)
        assert not CJK.search(text), (url, CJK.findall(text)[:20], text[max(0, CJK.search(text).start() - 80):][:200])


def test_the_language_switch_sets_english(client, world):
    client.force_login(world.users.worker_a1)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert "My area" in client.get("/").content.decode()


def _catalog(path: Path) -> dict:
    """{(context, msgid): msgstr} of a .po file, read with gettext's own rules (no polib at run time)."""
    entries, cur, key = {}, {}, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if line.startswith("#~"):
            continue
        m = re.match(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d\])?) "(.*)"$', line)
        if m:
            key = m.group(1)
            cur[key] = cur.get(key, "") + m.group(2)
        elif line.startswith('"') and key:
            cur[key] += line[1:-1]
        elif not line.strip():
            if cur.get("msgid") and "msgid_plural" not in cur:
                entries[(cur.get("msgctxt"), cur["msgid"])] = cur.get("msgstr", "")
            cur, key = {}, None
    return entries


APP_CATALOGS = sorted(Path(settings.BASE_DIR).glob("*/locale/en/LC_MESSAGES/django.po"))


def test_every_app_catalog_is_complete_and_compiled():
    assert APP_CATALOGS, "no app catalog found"
    for po in APP_CATALOGS:
        empty = [k for k, v in _catalog(po).items() if not v]
        assert not empty, f"{po.parent.parent.parent.parent.name}: untranslated {empty[:3]}"
        mo = po.with_suffix(".mo")
        assert mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime - 5, f"{po}: compilemessages"


def test_no_message_is_translated_one_way_in_the_root_catalog_and_another_in_an_app():
    """The root catalog (LOCALE_PATHS) wins over an app's: an app's different English for the same msgid would
    never be shown, and its author would read the wrong text in the .po. Give a new string its own context."""
    root = _catalog(PO)
    differ = []
    for po in APP_CATALOGS:
        for k, v in _catalog(po).items():
            if root.get(k) and v and root[k] != v:
                differ.append((po.parent.parent.parent.parent.name, k[1], root[k], v))
    assert not differ, differ[:5]

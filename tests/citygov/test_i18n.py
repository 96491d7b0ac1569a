import pytest

pytestmark = pytest.mark.django_db


def test_chinese_is_the_default(client):
    response = client.get("/accounts/login/")
    assert "登录" in response.content.decode()
    assert response.headers["Content-Language"] == "zh-hans"


def test_english_is_one_switch_away(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"}, follow=True)
    html = response.content.decode()
    assert "Sign in" in html and "登录" not in html


def test_every_message_has_a_chinese_translation():
    from pathlib import Path

    po = (Path(__file__).resolve().parents[2] / "locale/zh_Hans/LC_MESSAGES/django.po").read_text()
    entries = po.split("\n\n")[1:]
    untranslated = [e for e in entries if 'msgstr ""' in e and e.rstrip().endswith('msgstr ""') and "#~" not in e]
    assert untranslated == []
    fuzzy = [e for e in entries if "#, fuzzy" in e or ", fuzzy" in e.split("\n")[0]]
    assert fuzzy == []

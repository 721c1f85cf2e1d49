"""Everything a user sees in Chinese is Chinese (issue #18, "Chinese").

Each demo role signs in with Chinese chosen, then every page its menu links to is rendered,
plus the show, add and edit pages of the first row of each list. The visible text (and the
placeholders and titles a user reads) must hold no English word left from our strings or the
framework's. What may stay Latin: the data itself (names, MACs, emails, models the demo
seeded), product and protocol names, units. A failure lists every leftover string with the
page it was on, so the missing msgids are plain to see.
"""

import re
import zoneinfo
from collections import defaultdict
from urllib.parse import urlsplit

import lxml.html
import pytest
from sqlalchemy import select

from app.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo
from app.extensions import db

from .conftest import Browser, create_test_database, make_app, migrate_and_sync

# Product, protocol and format names, units and abbreviations that are Latin in Chinese too.
ALLOWED_WORDS = {
    "YMCS", "Yealink", "RPS", "ACS", "TR", "CWMP", "SIP", "MAC", "IP", "IPv4", "IPv6", "URL",
    "URLs", "HTTP", "HTTPS", "SMTP", "DNS", "NTP", "CPU", "ID", "IDs", "PIN", "Excel", "xlsx",
    "CSV", "XML", "cfg", "KB", "MB", "GB", "kB", "ms", "s", "OK", "SN", "PC", "UTC", "GMT",
    "Ping", "ping", "Traceroute", "traceroute", "pcap", "DHCP", "VLAN", "PPPoE", "LAN", "WAN",
    "Wi", "Fi", "PoE", "LLDP", "QoS", "SNMP", "TLS", "SSL", "SHA", "VPN", "API", "PNG", "JPG",
    "JPEG", "PDF", "ZIP", "zip", "GPS", "TCP", "UDP", "ICMP", "IMEI", "Digest", "DM",
    "ITSP", "AM", "PM", "English", "T54W", "T46U", "T33G", "W70B", "CP965", "Babel",
    "Copyright", "Flask", "AppBuilder", "FAB", "BToE", "Exchange", "Outlook", "RTP", "SRTP",
    "WebP", "GIF", "OUI", "GET", "POST", "PUT", "DELETE", "TXT",
}
# Product names, shown as they are in every language.
PRODUCT_NAMES = re.compile(r"YMCS for (RPS Enterprise|Enterprise|Channel)")
# Latin inside a string that is data, not text: emails, URLs, MACs, IPs, versions, model
# numbers, ids, dates, file names.
DATA_PATTERNS = re.compile(
    r"[\w.+-]+@[\w-]+(\.[\w-]+)+"
    r"|https?://\S+"
    r"|\b[0-9A-Fa-f]{2}([:-]?[0-9A-Fa-f]{2}){5}\b"
    r"|\b[0-9A-Fa-f]{12}\b"
    r"|\b\d+(\.\d+){1,3}\b"
    r"|\b[\w-]+\.(xlsx|csv|cfg|bin|rom|txt|pcap|png|log|tar|gz|zip)\b"
    r"|\b[A-Z]{1,4}-?\d[\w-]*\b"
    r"|\b\w*\d\w*\b"
    r"|\{\{\s*\w+\s*\}\}"  # template variables: {{mac}}
    r"|\b(Device|InternetGatewayDevice)(\.[\w{}]+)+\.?"  # TR-069 parameter names
    r"|\bxsd:\w+"
    r"|#!version:\S*"
    r"|(?<![\w<])/[\w./-]*"  # paths
    r"|\b[a-z0-9-]+(\.[a-z0-9-]+)+\b"  # host names
    r"|“[^”]*”")  # code quoted in a Chinese sentence
WORD = re.compile(r"[A-Za-z]{2,}")
SKIP_TAGS = {"script", "style", "noscript", "template"}


def _data_words(session):
    """Every Latin word of the data the demo seeded (names, contacts, models…): data is
    shown as entered, in any language."""
    from app.models import (
        Account,
        Channel,
        Device,
        Enterprise,
        Order,
        OrderEvent,
        Package,
        RpsDevice,
    )

    words = set()
    columns = [Channel.name, Channel.contact, Enterprise.name, Enterprise.contact,
               Device.model, Device.firmware, Order.reseller, Order.package_name,
               Package.name, Account.first_name, Account.last_name, Account.username,
               RpsDevice.server_url, OrderEvent.by]
    for column in columns:
        for value in session.execute(select(column).distinct()).scalars():
            words.update(WORD.findall(value or ""))
    return words


def visible_strings(html):
    """(where, text) of every text node a user reads, and the placeholder/title/value
    attributes of inputs and buttons."""
    root = lxml.html.document_fromstring(html)
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag in SKIP_TAGS or any(a.tag in SKIP_TAGS for a in element.iterancestors()):
            continue
        if element.get("style", "").replace(" ", "").find("display:none") >= 0:
            pass  # hidden now, shown on a click: still read by the user
        for text in (element.text,):
            if text and text.strip():
                yield element.tag, text.strip()
        if element.tail and element.tail.strip() and element.getparent() is not None \
                and element.getparent().tag not in SKIP_TAGS:
            yield element.getparent().tag, element.tail.strip()
        for attr in ("placeholder", "title", "alt", "aria-label", "data-confirm"):
            if element.get(attr):
                yield f"{element.tag}@{attr}", element.get(attr).strip()
        if element.tag == "input" and element.get("type") in ("submit", "button"):
            if element.get("value"):
                yield "input@value", element.get("value").strip()


TIME_ZONES = zoneinfo.available_timezones()  # IANA names: identifiers, as in every language


def english_left(text, allowed):
    """The English words of ``text`` that are neither data nor allowed."""
    if text in TIME_ZONES:
        return []
    stripped = DATA_PATTERNS.sub(" ", PRODUCT_NAMES.sub(" ", text))
    return [w for w in WORD.findall(stripped) if w not in allowed]


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    url, drop = create_test_database(tmp_path_factory.mktemp("zh-db"))
    app = make_app(url, FILE_STORE_DIR=str(tmp_path_factory.mktemp("zh-files")))
    migrate_and_sync(app)
    with app.app_context():
        seed_demo(db.session)
        from app.models import Enterprise, utcnow

        for enterprise in db.session.query(Enterprise):  # past the first-login prompt
            enterprise.authorization_answered_on = utcnow()
        db.session.commit()
        allowed = ALLOWED_WORDS | _data_words(db.session)
        db.session.remove()
    app.zh_allowed = allowed
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    drop()


def _login_zh(app, email):
    browser = Browser(app)
    page = browser.client.get("/login/")
    from .conftest import csrf_token_from

    browser.token = csrf_token_from(page.get_data(as_text=True))
    response = browser.client.post("/login/", data={
        "username": email, "password": DEMO_PASSWORD, "language": "zh",
        "csrf_token": browser.token})
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    return browser


def _links(html, selector):
    root = lxml.html.document_fromstring(html)
    hrefs = []
    for a in root.xpath(selector):
        href = a.get("href") or ""
        parts = urlsplit(href)
        if not href.startswith("/") or parts.path in ("/", "") or "logout" in href \
                or "/lang/" in href:
            continue
        hrefs.append(href)
    return hrefs


def _first_row_links(html):
    """The show and edit link of the first row of a list page, and its Add link."""
    root = lxml.html.document_fromstring(html)
    found = []
    for pattern in ("/show/", "/edit/", "/add"):
        for a in root.xpath("//a[@href]"):
            href = a.get("href")
            if pattern in href and href.startswith("/") and "/api/" not in href:
                found.append(href.split("?")[0] if pattern != "/add" else href)
                break
    return found


def walk(browser):
    """{url: html} of the home page, every menu page, and one show/edit/add page of each."""
    pages = {}
    home = browser.get("/")
    assert home.status_code == 200
    pages["/"] = home.get_data(as_text=True)
    queue = _links(pages["/"], "//*[contains(@class, 'navbar')]//a[@href]")
    for url in list(dict.fromkeys(queue)):
        response = browser.get(url)
        if response.status_code != 200:
            continue
        pages[url] = response.get_data(as_text=True)
        for extra in _first_row_links(pages[url]):
            if extra in pages:
                continue
            sub = browser.get(extra)
            if sub.status_code == 200 and "text/html" in sub.content_type:
                pages[extra] = sub.get_data(as_text=True)
    return pages


def leftovers(pages, allowed):
    """{english text: [urls]} of every string with an English word left."""
    found = defaultdict(list)
    for url, html in pages.items():
        for _where, text in visible_strings(html):
            if english_left(text, allowed):
                if url not in found[text]:
                    found[text].append(url)
    return found


@pytest.mark.parametrize("email", [a[0] for a in DEMO_ACCOUNTS])
def test_every_page_of_every_demo_role_is_chinese(demo_app, email):
    browser = _login_zh(demo_app, email)
    pages = walk(browser)
    assert len(pages) >= 3, f"{email} reached only {list(pages)}"
    missing = leftovers(pages, demo_app.zh_allowed)
    report = "\n".join(f"  {text!r}  on {', '.join(urls[:3])}"
                       for text, urls in sorted(missing.items()))
    assert not missing, (
        f"{len(missing)} English strings left for {email} in Chinese (translate each in "
        f"app/translations/zh/LC_MESSAGES/messages.po, or mark it for translation):\n{report}")


def test_the_checker_catches_english_and_lets_data_through():
    allowed = ALLOWED_WORDS | {"Kaixin", "Trading"}
    assert english_left("Add Enterprise", allowed) == ["Add", "Enterprise"]
    assert english_left("企业 Kaixin Trading 00:15:65:d0:00:01 10.0.0.1 it@kaixin.example",
                        allowed) == []
    assert english_left("SIP-T54W 96.86.0.70 CPU 5%", allowed) == []


def _login(app, email, language):
    browser = Browser(app)
    from .conftest import csrf_token_from

    browser.token = csrf_token_from(browser.client.get("/login/").get_data(as_text=True))
    response = browser.client.post("/login/", data={
        "username": email, "password": DEMO_PASSWORD, "language": language,
        "csrf_token": browser.token})
    assert response.status_code == 302
    return browser


def test_command_results_read_as_sentences_in_both_languages(demo_app):
    import json

    from app.models import CommandStatus, Device, DeviceCommand, Enterprise

    with demo_app.app_context():
        device = db.session.execute(select(Device).join(Enterprise).where(
            Enterprise.name == "Acme Hotel Group").limit(1)).scalar_one()
        for state, host in (("Error_CannotResolveHostName", "nowhere.invalid"),
                            ("Complete", "sip.example.com")):
            db.session.add(DeviceCommand(
                device_id=device.id, kind="ping", status=CommandStatus.done, created_by="demo",
                arguments=json.dumps({"host": host, "count": 4}),
                result=json.dumps({"state": state, "success": 0, "failure": 4})))
        db.session.commit()
        url = f"/devicemodelview/show/{device.id}"
        db.session.remove()
    english = _login(demo_app, "acme@ymcs.example", "en").get(url).get_data(as_text=True)
    assert "The device could not resolve the host name." in english
    assert ">Completed<" in english
    chinese = _login(demo_app, "acme@ymcs.example", "zh").get(url).get_data(as_text=True)
    assert "设备无法解析该主机名。" in chinese and ">已完成<" in chinese
    found = set(leftovers({url: chinese}, demo_app.zh_allowed))
    assert not found, f"English left on the device page: {sorted(found)}"


def test_the_security_screens_the_walk_does_not_reach_are_chinese(demo_app):
    """The walk opens the first row of each list: here a group (the demo has none), a role
    other than Admin and an account of a channel, with every page they lead to."""
    from flask_appbuilder.security.sqla.models import Group, Role, assoc_user_group

    from app.accounts import roles
    from app.models import Account

    with demo_app.app_context():
        channel_admin = db.session.execute(select(Role).where(
            Role.name == roles.CHANNEL_ADMIN)).scalar_one()
        account = db.session.execute(select(Account).where(
            Account.email == "acme@ymcs.example")).scalar_one()
        group = Group(name="ops", label="ops", description="", roles=[channel_admin])
        db.session.add(group)
        db.session.flush()
        db.session.execute(assoc_user_group.insert().values(user_id=account.id,
                                                            group_id=group.id))
        db.session.commit()
        ids = (group.id, channel_admin.id, account.id)
        db.session.remove()
    group_id, role_id, account_id = ids
    browser = _login(demo_app, "admin@ymcs.example", "zh")
    pages = {}
    for url in ("/groups/list/", f"/groups/show/{group_id}", f"/groups/edit/{group_id}",
                "/groups/add", f"/roles/show/{role_id}", f"/roles/edit/{role_id}",
                f"/users/show/{account_id}", f"/users/edit/{account_id}"):
        response = browser.get(url)
        assert response.status_code == 200, url
        pages[url] = response.get_data(as_text=True)
    found = leftovers(pages, demo_app.zh_allowed | {"ops"})
    report = "\n".join(f"  {text!r}  on {', '.join(urls[:3])}"
                       for text, urls in sorted(found.items()))
    assert not found, f"English left on the security screens:\n{report}"

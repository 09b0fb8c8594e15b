"""The shipped languages, through the real app and catalogues: the reader's language
from Accept-Language (q-values, region fallback), the footer's menu (a cookie), the
account's choice first; <html lang dir>; and emails in the recipient's language."""

from __future__ import annotations

import datetime as dt
import re

from models import clock
from models.accounts import Account
from models.services import notifications as notification_service
from tests import factories
from tests.integration.webforms import logged_in, submit, text

HTML_TAG = re.compile(r"<html lang=\"([^\"]+)\" dir=\"([^\"]+)\">")


async def _page(client, path: str = "/login", **headers) -> tuple[str, str, str]:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, path
    page = await text(response)
    lang, direction = HTML_TAG.search(page).groups()
    return lang, direction, page


async def test_accept_language_picks_a_shipped_language_by_quality_and_region(client):
    lang, direction, page = await _page(client, **{"Accept-Language": "es-MX,en;q=0.5"})
    assert (lang, direction) == ("es", "ltr") and "Iniciar sesión" in page and "Saltar al contenido" in page
    lang, _, page = await _page(client, **{"Accept-Language": "pt-BR;q=0.9, fr-CA;q=0.8, es;q=0.1"})
    assert lang == "fr" and "Aller au contenu" in page
    lang, _, page = await _page(client, **{"Accept-Language": "en-GB, fr;q=0.9"})
    assert lang == "en" and "Skip to content" in page


async def test_the_footer_menu_sets_a_cookie_and_goes_back(client):
    _, _, page = await _page(client, "/circles", **{"Accept-Language": "fr"})
    menu = page[page.index('class="language-menu"'):]
    # each language named in itself, marked as such; the current one marked current
    assert '>English</a>' in menu and 'lang="es" hreflang="es" translate="no">Español</a>' in menu
    assert 'lang="fr" hreflang="fr" translate="no" aria-current="true">Français</a>' in menu
    assert "/language?lang=es&amp;next=/circles" in menu

    response = await client.get("/language?lang=es&next=/circles", headers={"Accept-Language": "fr"})
    assert response.status_code == 302 and response.headers["Location"] == "/circles"
    assert "lang=es" in response.headers["Set-Cookie"] and "HttpOnly" in response.headers["Set-Cookie"]
    lang, _, page = await _page(client, "/circles", **{"Accept-Language": "fr"})
    assert lang == "es" and "Buscar círculos" in page

    # an unknown language forgets the choice (the browser decides again); `next` stays local
    response = await client.get("/language?lang=xx&next=//evil.example/", headers={"Accept-Language": "fr"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    lang, _, _ = await _page(client, "/circles", **{"Accept-Language": "fr"})
    assert lang == "fr"


async def test_the_accounts_language_comes_before_the_visitors_cookie(app, alice):
    client = await logged_in(app, alice)
    await client.get("/language?lang=es&next=/")
    assert (await _page(client, "/settings"))[0] == "es"
    response = await submit(client, "/settings", display_name="Alice", bio="", language="fr")
    assert response.status_code == 302
    lang, _, page = await _page(client, "/settings", **{"Accept-Language": "es"})
    assert lang == "fr" and "Langue de ce site" in page
    assert '<option value="fr" lang="fr" translate="no" selected>Français</option>' in page


async def test_a_notification_email_is_written_with_the_shipped_catalogue(make_app, smtp_server, alice):
    app = make_app(smtp_url=smtp_server.url, email_from="Circles <circles@circles.test>")
    await Account.filter(id=alice.id).update(language="es", email_verified_at=clock.now())
    made = await notification_service.notify([alice.actor_id], "circle.join_request", "@bob asks to join Readers.",
                                             "/c/readers#requests", params={"handle": "bob", "circle": "Readers"})
    assert made == 1
    assert await app.extensions["circles.postman"].send_due(dt.timedelta(minutes=5)) == 1
    [message] = smtp_server.to("alice@example.org")
    body = message.get_body(("plain",)).get_content()
    assert "Recibes este correo de Circles por tu configuración de notificaciones." in body
    assert message["Subject"] == "@bob pide unirse a Readers."


async def test_counts_on_a_page_are_written_the_locales_way(client, instance, alice):
    await factories.circle(instance, alice, "big", size_limit=10000)
    _, _, page = await _page(client, "/c/big/about", **{"Accept-Language": "fr"})
    assert "1 sur 10\u202f000 au plus" in page
    _, _, page = await _page(client, "/c/big/about", **{"Accept-Language": "en"})
    assert "1 of at most 10,000" in page

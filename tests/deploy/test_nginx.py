"""deploy/nginx.conf with Debian's nginx in front of a real `circles serve`
started with deploy/circles.env.example's settings: `nginx -t` accepts the
site, and requests pass through it as in production. Only what cannot be
used on a test machine is replaced: the listening addresses (ports of
127.0.0.1), the certificate (self-signed, made here), the upstream and the
folders. The names stay circles.example.org: requests carry it as their
TLS server name and Host, as a browser's would.

SQLite (one web process is enough to see what nginx passes on), so it runs
in both test runs. `.ci/run` installs nginx; without it the tests skip.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import os
import re
import shutil
import ssl
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.deploy import deployment
from tests.servers import free_port, stop_process

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
NAME = "circles.example.org"
STATIC = Path(__file__).resolve().parents[2] / "web" / "static"

needs_nginx = pytest.mark.skipif(
    not os.access(NGINX, os.X_OK),
    reason="tests/deploy/test_nginx.py needs Debian's nginx (apt-get install nginx; .ci/run installs it)",
)


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for circles.example.org (and 127.0.0.1) and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "fullchain.pem", folder / "privkey.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def site_for_test(folder: Path, *, https: int, http: int, app: int) -> str:
    """deploy/nginx.conf with test ports, certificate, upstream and folders."""
    text = (deployment.DEPLOY / "nginx.conf").read_text()
    cert_file, key_file = self_signed(folder)
    replacements = [
        (r"listen \[::\]:\d+[^;]*;\n", ""),  # no IPv6 listeners: the machine may have none
        (r"listen 443 ", f"listen 127.0.0.1:{https} "),
        (r"listen 80;", f"listen 127.0.0.1:{http};"),
        (r"listen 80 ", f"listen 127.0.0.1:{http} "),
        (rf"/etc/letsencrypt/live/{re.escape(NAME)}/fullchain\.pem", str(cert_file)),
        (rf"/etc/letsencrypt/live/{re.escape(NAME)}/privkey\.pem", str(key_file)),
        (r"(upstream circles_web \{\n)(\s*server [^\n]+\n)+", rf"\g<1>    server 127.0.0.1:{app};\n"),
        (r"alias /opt/circles/venv/lib/python3\.\d+/site-packages/web/static/;", f"alias {STATIC}/;"),
        (r"alias /var/lib/circles/media/;", f"alias {folder / 'data' / 'media'}/;"),
        (r"root /var/www/letsencrypt;", f"root {folder};"),
    ]
    for pattern, replacement in replacements:
        text, count = re.subn(pattern, replacement, text)
        assert count, f"deploy/nginx.conf no longer has {pattern!r}: update this test with it"
    return text


def nginx_conf(folder: Path, site: Path) -> Path:
    """A main configuration of our own around the site (no /etc/nginx/nginx.conf, no /var/log)."""
    temp = folder / "nginx-temp"
    temp.mkdir(exist_ok=True)
    conf = folder / "nginx.conf"
    conf.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")  # its workers read the test's private folders
        + f"daemon off;\nworker_processes 1;\npid {folder}/nginx.pid;\nerror_log {folder}/nginx-error.log;\n"
        "events { worker_connections 64; }\n"
        "http {\n  include /etc/nginx/mime.types;\n"
        f"  access_log {folder}/nginx-access.log;\n"
        + "".join(f"  {kind}_temp_path {temp}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                    "scgi"))
        + f"  include {site};\n}}\n"
    )
    return conf


@needs_nginx
def test_nginx_accepts_the_site(tmp_path):
    site = tmp_path / "circles-site.conf"
    site.write_text(site_for_test(tmp_path, https=free_port(), http=free_port(), app=free_port()))
    checked = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(nginx_conf(tmp_path, site))],
                             capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


@needs_nginx
async def test_requests_pass_through_nginx_with_the_right_scheme_and_host(tmp_path):
    https, http, app = free_port(), free_port(), free_port()
    site = tmp_path / "circles-site.conf"
    site.write_text(site_for_test(tmp_path, https=https, http=http, app=app))
    env = deployment.production_env(tmp_path, f"sqlite://{tmp_path / 'data' / 'circles.sqlite3'}")
    assert env["CIRCLES_DOMAIN"] == NAME and env["CIRCLES_SCHEME"] == "https"
    deployment.run(["migrate"], env, tmp_path)
    _create_admin(env, tmp_path)
    deployment.run(["circle", "create", "readers", "--name", "Readers", "--owner", "ada"], env, tmp_path)
    args = [arg.replace("%i", str(app)) for arg in deployment.exec_start("circles-web@.service")]
    web = deployment.start(args, env, tmp_path / "web.log")
    nginx = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(nginx_conf(tmp_path, site))],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        tls = ssl.create_default_context(cafile=str(tmp_path / "fullchain.pem"))
        # Connect to 127.0.0.1 while naming circles.example.org in TLS and in Host, as a browser would.
        async with httpx.AsyncClient(base_url=f"https://127.0.0.1:{https}", verify=tls, timeout=10,
                                     headers={"Host": NAME}) as client:
            sni = {"sni_hostname": NAME}
            await until_ready(client, sni, web, nginx, tmp_path)

            # A request reaches the app through nginx; the app sees https and our host.
            circle = (await client.get("/api/v1/accounts/lookup", params={"acct": "readers"}, extensions=sni)).json()
            members = await client.get(f"/api/v1/accounts/{circle['id']}/followers", extensions=sni)
            assert members.status_code == 200 and [a["username"] for a in members.json()] == ["ada"]
            assert members.headers["link"].startswith(f"<https://{NAME}/api/v1/accounts/{circle['id']}/followers?")

            # A client's own forwarded headers are replaced by nginx's.
            forged = await client.get(f"/api/v1/accounts/{circle['id']}/followers", extensions=sni, headers={
                "X-Forwarded-Proto": "http", "X-Forwarded-Host": "evil.example", "X-Forwarded-For": "6.6.6.6"})
            assert forged.headers["link"].startswith(f"<https://{NAME}/"), forged.headers["link"]
            language = await client.get("/language", params={"lang": "fr"}, extensions=sni)
            assert language.status_code in (302, 303) and "secure" in language.headers["set-cookie"].lower()

            # nginx serves the static files itself (its Expires header), and sends no secrets for an unknown name.
            css = await client.get("/static/style.css", extensions=sni)
            assert css.status_code == 200 and css.content == (STATIC / "style.css").read_bytes()
            assert "expires" in css.headers
            missing = await client.get("/media/no-such-file.png", extensions=sni)
            assert missing.status_code == 404  # not on disk: the app's answer

            # The body limit: 2 MB on an ordinary page, refused by nginx before the app.
            big = await client.post("/login", content=b"x" * (3 * 1024 * 1024), extensions=sni)
            assert big.status_code == 413

        # Straight to the app, not through nginx: plain http, its own address.
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{app}", timeout=10) as direct:
            members = await direct.get(f"/api/v1/accounts/{circle['id']}/followers")
            assert members.headers["link"].startswith(f"<http://127.0.0.1:{app}/")
            language = await direct.get("/language", params={"lang": "fr"})
            assert "secure" not in language.headers["set-cookie"].lower()

        # Port 80: a redirect to https for our name; nothing for any other name.
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http}", timeout=10) as plain:
            moved = await plain.get("/about", headers={"Host": NAME})
            assert moved.status_code == 301 and moved.headers["location"] == f"https://{NAME}/about"
            with pytest.raises(httpx.RemoteProtocolError):
                await plain.get("/about", headers={"Host": "scanner.example"})
    finally:
        nginx.terminate()
        try:
            nginx.wait(10)
        except subprocess.TimeoutExpired:
            nginx.kill()
            nginx.wait(10)
        stop_process(web)


def _create_admin(env: dict[str, str], folder: Path) -> None:
    done = subprocess.run([str(deployment.CIRCLES), "user", "create", "ada", "--email", "ada@example.org", "--admin",
                           "--password-stdin"], input="correct horse battery\n", cwd=folder, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


async def until_ready(client: httpx.AsyncClient, sni: dict, web, nginx, folder: Path) -> None:
    deadline = time.monotonic() + 30
    last = "no answer"
    while time.monotonic() < deadline:
        assert web.poll() is None, (folder / "web.log").read_text()[-3000:]
        assert nginx.poll() is None, nginx.stderr.read().decode()
        try:
            response = await client.get("/readyz", extensions=sni)
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:200]}"
        except httpx.TransportError as error:
            last = repr(error)
        await asyncio.sleep(0.2)
    pytest.fail(f"no answer through nginx: {last}\n{(folder / 'web.log').read_text()[-3000:]}")

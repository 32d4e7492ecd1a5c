"""Two hall processes behind nginx with TLS, configured by deploy/nginx/county-hall.conf
itself (ports, name and a self-signed certificate put in): a kiosk enrols, uploads and
submits through it with signed requests, and both halls serve some of them."""

from __future__ import annotations

import datetime
import ipaddress
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.hall.kiosk_client import SignedClient
from tests.hall.test_console import page_image
from tests.support.hall_process import HallProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hall.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("hall.test"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def nginx_config(folder: Path, hall_ports: list[int], port: int, plain_port: int, cert: Path,
                 key: Path) -> Path:
    site = (ROOT / "deploy" / "nginx" / "county-hall.conf").read_text()
    site = site.replace("server 127.0.0.1:8401", f"server 127.0.0.1:{hall_ports[0]}")
    site = site.replace("server 127.0.0.1:8402", f"server 127.0.0.1:{hall_ports[1]}")
    site = site.replace("listen 443 ssl", f"listen 127.0.0.1:{port} ssl")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{plain_port};")
    site = site.replace("/etc/ssl/county-hall/fullchain.pem", str(cert))
    site = site.replace("/etc/ssl/county-hall/privkey.pem", str(key))
    assert str(hall_ports[1]) in site and str(cert) in site
    temp = folder / "temp"
    temp.mkdir()
    main = folder / "nginx.conf"
    main.write_text(f"""daemon off;
master_process on;
worker_processes 1;
user root;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    {site}
}}
""")
    return main


@pytest.mark.postgres
def test_two_halls_behind_nginx_with_tls_serve_signed_kiosk_requests(tmp_path, postgres_cluster, monkeypatch):
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    db_url = postgres_cluster.create_database("hall_nginx")
    # One data dir for both processes: the same keys (kiosks pin one hall key) and the same store.
    with HallProcess(tmp_path, db_url=db_url, serve_args=["--access-log"]) as first, \
            HallProcess(tmp_path, db_url=db_url, serve_args=["--access-log"]) as second:
        cert, key = self_signed(tmp_path)
        port, plain_port = free_port(), free_port()
        config = nginx_config(tmp_path, [first.port, second.port], port, plain_port, cert, key)
        checked = subprocess.run([NGINX, "-t", "-c", str(config)], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stderr
        nginx = subprocess.Popen([NGINX, "-c", str(config)], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        try:
            url = f"https://127.0.0.1:{port}"
            monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))  # the kiosk trusts this hall's certificate
            deadline = time.monotonic() + 20
            while True:
                try:
                    if requests.get(url + "/api/v1/health", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            kiosk = SignedClient.enrolled(url, first.enrollment_code())
            # An upload in chunks, an application, the status feed: every one signed over its
            # path, query and body, every one checked by whichever hall nginx chose.
            answer = kiosk.submit([(page_image("hukou page 1"), "M1", "image/png")])
            assert answer["provisional_number"] and answer["status"] == "submitted"
            for _ in range(6):
                feed = kiosk.status_changes("0")
                assert feed.status_code == 200, feed.text
            assert kiosk.status_changes("not-a-cursor").status_code == 422  # the query reached the hall
            plain = requests.get(f"http://127.0.0.1:{plain_port}/console/", timeout=5, allow_redirects=False)
            assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")
            hsts = requests.get(url + "/api/v1/health", timeout=5).headers.get("Strict-Transport-Security")
            assert hsts == "max-age=31536000"
            served = [p.log_path.read_text(errors="replace").count('"GET /api/v1/status-changes')
                      for p in (first, second)]
            assert all(count > 0 for count in served), served  # both halls took kiosk requests
            refused = requests.get(url + "/api/v1/status-changes", timeout=5)
            assert refused.status_code == 401  # unsigned: refused by the hall, through nginx
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)

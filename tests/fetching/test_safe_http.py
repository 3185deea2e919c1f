"""Where the fetcher may go and how it fetches, against real servers on 127.0.0.1."""

from __future__ import annotations

import socket
import ssl
import time

import pytest
import trustme

from feedback.safe_http import (
    MAX_REDIRECTS,
    FetchError,
    FetchLimits,
    FetchProblem,
    get_page,
    is_public_address,
)
from tests.fetching.conftest import ARTICLE_PATH, OriginServer, Route, article_page, running

LOCAL = FetchLimits(user_agent="reader-feedback/test", allow_private_addresses=True)
PUBLIC_ONLY = FetchLimits(user_agent="reader-feedback/test", allow_private_addresses=False)


def resolve_to_loopback(host: str, port: int) -> list[tuple]:
    """A name server that answers 127.0.0.1 for every name (as a rebinding one might)."""
    return socket.getaddrinfo("127.0.0.1", port, type=socket.SOCK_STREAM)


def refused(problem: FetchProblem, *args, **kwargs) -> FetchError:
    with pytest.raises(FetchError) as caught:
        get_page(*args, **kwargs)
    assert caught.value.problem is problem, caught.value
    return caught.value


@pytest.fixture
def other_origin():
    with running(OriginServer()) as server:
        yield server


def test_fetches_an_html_page_with_an_honest_user_agent(origin):
    origin.page(ARTICLE_PATH, article_page())
    page = get_page(origin.base + ARTICLE_PATH, [origin.base], LOCAL)
    assert "Harbour ferry returns" in page.html
    assert page.url == origin.base + ARTICLE_PATH
    ((path, headers),) = origin.requests
    assert path == ARTICLE_PATH
    assert headers["User-Agent"] == "reader-feedback/test"
    assert headers["Host"] == f"127.0.0.1:{origin.port}"


def test_follows_up_to_three_redirects_on_the_origins(origin):
    origin.page("/final", article_page())
    origin.redirect("/a", "/b", 301)
    origin.redirect("/b", f"{origin.base}/c", 308)
    origin.redirect("/c", "/final", 302)
    page = get_page(origin.base + "/a", [origin.base], LOCAL)
    assert (page.url, page.redirects) == (origin.base + "/final", MAX_REDIRECTS)


def test_a_fourth_redirect_is_refused(origin):
    origin.page("/final", article_page())
    for here, there in [("/a", "/b"), ("/b", "/c"), ("/c", "/d"), ("/d", "/final")]:
        origin.redirect(here, there)
    refused(FetchProblem.TOO_MANY_REDIRECTS, origin.base + "/a", [origin.base], LOCAL)
    assert origin.hits("/final") == 0


def test_a_redirect_off_the_origins_is_refused_before_connecting(origin, other_origin):
    other_origin.page("/elsewhere", article_page())
    origin.redirect(ARTICLE_PATH, other_origin.base + "/elsewhere")
    error = refused(FetchProblem.OFF_ORIGIN, origin.base + ARTICLE_PATH, [origin.base], LOCAL)
    assert other_origin.base in str(error)
    assert other_origin.connections == 0


def test_a_redirect_to_another_allowed_origin_is_followed(origin, other_origin):
    other_origin.page("/elsewhere", article_page())
    origin.redirect(ARTICLE_PATH, other_origin.base + "/elsewhere")
    page = get_page(origin.base + ARTICLE_PATH, [origin.base, other_origin.base], LOCAL)
    assert page.url == other_origin.base + "/elsewhere"


def test_a_url_off_the_origins_is_never_requested(origin):
    origin.page(ARTICLE_PATH, article_page())
    refused(FetchProblem.OFF_ORIGIN, origin.base + ARTICLE_PATH, ["https://news.example"], LOCAL)
    # Another scheme or port of the same host is another origin.
    https_url = f"https://127.0.0.1:{origin.port}{ARTICLE_PATH}"
    refused(FetchProblem.OFF_ORIGIN, https_url, [origin.base], LOCAL)
    refused(FetchProblem.OFF_ORIGIN, "ftp://127.0.0.1/x", [origin.base], LOCAL)
    assert origin.connections == 0


def test_a_name_resolving_to_loopback_is_refused_at_connect_time(origin):
    origin.page(ARTICLE_PATH, article_page())
    site_origin = f"http://news.test:{origin.port}"
    # The URL passes every check made on it (an allowed origin, a name, not an address):
    # only the address the name gives when connecting tells, and no connection is made.
    error = refused(
        FetchProblem.PRIVATE_ADDRESS,
        site_origin + ARTICLE_PATH,
        [site_origin],
        PUBLIC_ONLY,
        resolver=resolve_to_loopback,
    )
    assert "127.0.0.1" in str(error)
    assert origin.connections == 0

    # With private addresses allowed the same name reaches the server, which sees the
    # name, not the address, in Host: the connection went to the address checked.
    page = get_page(site_origin + ARTICLE_PATH, [site_origin], LOCAL, resolver=resolve_to_loopback)
    assert "Harbour ferry returns" in page.html
    assert origin.requests[-1][1]["Host"] == f"news.test:{origin.port}"


def test_https_checks_the_certificate_for_the_name_not_the_address(tmp_path):
    authority = trustme.CA()
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    limits = FetchLimits(allow_private_addresses=True, ca_certs=str(tmp_path / "ca.pem"))
    for name, trusted in [("news.test", True), ("impostor.test", False)]:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert(name).configure_cert(tls)
        with running(OriginServer(tls)) as secure:
            secure.page(ARTICLE_PATH, article_page())
            site_origin = f"https://news.test:{secure.port}"
            if trusted:
                # Connected to 127.0.0.1, with news.test in SNI, Host and the check.
                page = get_page(
                    site_origin + ARTICLE_PATH, [site_origin], limits, resolver=resolve_to_loopback
                )
                assert "Harbour ferry returns" in page.html
                assert secure.requests[-1][1]["Host"] == f"news.test:{secure.port}"
            else:
                error = refused(
                    FetchProblem.NETWORK,
                    site_origin + ARTICLE_PATH,
                    [site_origin],
                    limits,
                    resolver=resolve_to_loopback,
                )
                assert "certificate" in str(error).lower()
                assert secure.requests == []


def test_a_literal_private_address_is_refused(origin):
    origin.page(ARTICLE_PATH, article_page())
    refused(FetchProblem.PRIVATE_ADDRESS, origin.base + ARTICLE_PATH, [origin.base], PUBLIC_ONLY)
    assert origin.connections == 0


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 - an address to judge, not to bind
        ("224.0.0.1", False),
        ("::1", False),
        ("fc00::1", False),
        ("fe80::1%eth0", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("93.184.216.34", True),
        ("2606:4700:4700::1111", True),
    ],
)
def test_public_addresses(address, public):
    assert is_public_address(address) is public


def test_a_server_that_hangs_times_out(origin):
    origin.routes[ARTICLE_PATH] = Route(body=b"<p>late</p>", delay=30)
    limits = FetchLimits(read_timeout=0.5, allow_private_addresses=True)
    started = time.monotonic()
    refused(FetchProblem.TIMEOUT, origin.base + ARTICLE_PATH, [origin.base], limits)
    assert time.monotonic() - started < 5


def test_a_page_that_trickles_in_is_abandoned(origin):
    # Each byte arrives well within the read timeout, but the whole takes too long.
    origin.routes[ARTICLE_PATH] = Route(
        body=b"<p>" + b"x" * 200 + b"</p>", trickle=1, trickle_pause=0.05
    )
    limits = FetchLimits(read_timeout=2, total_seconds=1, allow_private_addresses=True)
    started = time.monotonic()
    refused(FetchProblem.TIMEOUT, origin.base + ARTICLE_PATH, [origin.base], limits)
    assert time.monotonic() - started < 5


def chunked(body: bytes, size: int = 4096) -> bytes:
    parts = [
        b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size])
        for i in range(0, len(body), size)
    ]
    return b"".join(parts) + b"0\r\n\r\n"


def test_body_limit(origin):
    limits = FetchLimits(max_bytes=10_000, allow_private_addresses=True)
    big = b"<p>" + b"x" * 20_000 + b"</p>"
    # Announced in Content-Length: refused before reading.
    origin.routes["/announced"] = Route(body=big)
    refused(FetchProblem.TOO_LARGE, origin.base + "/announced", [origin.base], limits)
    # Chunked, so only counting tells.
    origin.routes["/chunked"] = Route(body=chunked(big), headers={"Transfer-Encoding": "chunked"})
    refused(FetchProblem.TOO_LARGE, origin.base + "/chunked", [origin.base], limits)
    # Compressed small, large once unpacked.
    origin.gzipped("/bomb", b"<p>" + b"x" * 1_000_000 + b"</p>")
    refused(FetchProblem.TOO_LARGE, origin.base + "/bomb", [origin.base], limits)
    # Under the limit, chunked and compressed pages are read whole.
    origin.routes["/small"] = Route(
        body=chunked(b"<p>small page</p>", 5), headers={"Transfer-Encoding": "chunked"}
    )
    assert get_page(origin.base + "/small", [origin.base], limits).html == "<p>small page</p>"
    origin.gzipped("/zipped", b"<p>zipped page</p>")
    assert get_page(origin.base + "/zipped", [origin.base], limits).html == "<p>zipped page</p>"


@pytest.mark.parametrize("content_type", ["application/json", "image/png", "text/plain", ""])
def test_only_html_is_read(origin, content_type):
    origin.routes[ARTICLE_PATH] = Route(body=b"{}", headers={"Content-Type": content_type})
    refused(FetchProblem.NOT_HTML, origin.base + ARTICLE_PATH, [origin.base], LOCAL)


def test_xhtml_is_html(origin):
    origin.routes[ARTICLE_PATH] = Route(
        body=b"<p>x</p>", headers={"Content-Type": "application/xhtml+xml"}
    )
    assert get_page(origin.base + ARTICLE_PATH, [origin.base], LOCAL).html == "<p>x</p>"


def test_error_answers(origin):
    refused(FetchProblem.NOT_FOUND, origin.base + "/missing", [origin.base], LOCAL)
    origin.routes["/gone"] = Route(status=410)
    refused(FetchProblem.NOT_FOUND, origin.base + "/gone", [origin.base], LOCAL)
    origin.routes["/broken"] = Route(status=503, body=b"busy")
    refused(FetchProblem.HTTP_STATUS, origin.base + "/broken", [origin.base], LOCAL)
    origin.routes["/nowhere"] = Route(status=302)
    refused(FetchProblem.HTTP_STATUS, origin.base + "/nowhere", [origin.base], LOCAL)


def test_nothing_listening(origin):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    refused(FetchProblem.NETWORK, closed + "/", [closed], LOCAL)


def test_the_declared_encoding_is_used(origin):
    text = "Паром вернулся на линию"
    declared_in_meta = f"<meta charset=windows-1251><p>{text}</p>".encode("cp1251")
    origin.routes["/meta"] = Route(body=declared_in_meta, headers={"Content-Type": "text/html"})
    assert text in get_page(origin.base + "/meta", [origin.base], LOCAL).html
    in_header = f"<p>{text}</p>".encode("koi8-r")
    origin.routes["/header"] = Route(
        body=in_header, headers={"Content-Type": "text/html; charset=KOI8-R"}
    )
    assert text in get_page(origin.base + "/header", [origin.base], LOCAL).html
    undeclared = f"<p>{text}</p>".encode()
    origin.routes["/plain"] = Route(body=undeclared, headers={"Content-Type": "text/html"})
    assert text in get_page(origin.base + "/plain", [origin.base], LOCAL).html

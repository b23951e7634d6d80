import pytest
from client_kit import Canned, canned_server, report

from batch.records import Answer
from batch.service.transport import HttpPool

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
NS = "http://ipl.stil.dk/services/udb/indberetningkontaktjoboguddoensker/1"
OK = (
    f'<e:Envelope xmlns:e="{SOAP12}"><e:Body><u:IndberetningSvar xmlns:u="{NS}">'
    "<u:Ok>true</u:Ok></u:IndberetningSvar></e:Body></e:Envelope>"
).encode()


def test_one_connection_is_kept_alive_for_many_calls(make_client):
    """Sequential calls reuse one kept-alive connection: no new handshake per request."""
    canned = Canned(body=OK)
    with canned_server(canned) as url:
        client = make_client(endpoint=url)
        results = [client.send(report()) for _ in range(20)]
    assert results == [Answer(ok=True)] * 20
    assert canned.hits == 20
    assert canned.connections == 1


def test_a_server_that_closes_each_connection_is_followed(make_client):
    """`Connection: close` answers are read, the socket dropped, the next call reconnects."""
    canned = Canned(body=OK, headers=(("Content-Type", "text/xml"), ("Connection", "close")))
    with canned_server(canned) as url:
        client = make_client(endpoint=url)
        results = [client.send(report()) for _ in range(5)]
    assert results == [Answer(ok=True)] * 5
    assert canned.connections == 5


def test_the_request_leaves_with_content_length_host_and_agent():
    """The hand-built request is well-formed HTTP/1.1 the server reads without trouble."""
    canned = Canned(body=b"pong")
    with canned_server(canned) as url:
        pool = HttpPool(url, ssl_context=None, connect_timeout=2, read_timeout=2, size=1)
        reply = pool.request("POST", b"ping", {"Content-Type": "text/plain"})
        pool.close()
    assert (reply.status, reply.body) == (200, b"pong")
    assert reply.headers["content-length"] == "4"


def test_header_injection_is_refused():
    """A header value with a line break never reaches the wire."""
    pool = HttpPool(
        "http://127.0.0.1:9/x", ssl_context=None, connect_timeout=1, read_timeout=1, size=1
    )
    with pytest.raises(ValueError, match="line break"):
        pool.request("POST", b"", {"SOAPAction": "x\r\nEvil: 1"})


def test_a_gzip_answer_is_decoded_although_identity_was_asked():
    """We ask for identity; a server that gzips anyway is still read (the cap on decoded bytes)."""
    import gzip

    canned = Canned(body=gzip.compress(OK), headers=(("Content-Encoding", "gzip"),))
    with canned_server(canned) as url:
        pool = HttpPool(url, ssl_context=None, connect_timeout=2, read_timeout=2, size=1)
        reply = pool.request("POST", b"ping", {})
        pool.close()
    assert reply.body == OK


def test_a_redirect_is_not_followed_and_its_location_is_named(make_client):
    """A 302 is a failure whose message names where it pointed; the target is never asked."""
    target = Canned(body=OK)
    with canned_server(target) as elsewhere:
        canned = Canned(status=302, headers=(("Location", elsewhere),))
        with canned_server(canned) as url:
            result = make_client(endpoint=url).send(report())
    assert not isinstance(result, Answer)
    assert elsewhere in result.message
    assert target.hits == 0


def test_a_dropped_keep_alive_connection_is_replaced():
    """After the server closes an idle connection, the next request opens a new one."""
    canned = Canned(body=OK, headers=(("Connection", "close"),))
    with canned_server(canned) as url:
        pool = HttpPool(url, ssl_context=None, connect_timeout=2, read_timeout=2, size=1)
        replies = [pool.request("POST", b"x", {}) for _ in range(3)]
        pool.close()
    assert [reply.status for reply in replies] == [200] * 3

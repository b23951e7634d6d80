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

import pytest
from client_kit import Canned, canned_server, report

from batch.records import Answer, FailureKind

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
NS = "http://ipl.stil.dk/services/udb/indberetningkontaktjoboguddoensker/1"


def answer_with(ok_text: str, doctype: str = "") -> bytes:
    return (
        f'<?xml version="1.0"?>{doctype}<e:Envelope xmlns:e="{SOAP12}"><e:Body>'
        f'<u:IndberetningSvar xmlns:u="{NS}"><u:Ok>{ok_text}</u:Ok></u:IndberetningSvar>'
        "</e:Body></e:Envelope>"
    ).encode()


LAUGHS = (
    '<!DOCTYPE e:Envelope [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
        for i in range(1, 10)
    )
    + "]>"
)


def post_through_client(make_client, canned: Canned):
    with canned_server(canned) as url:
        client = make_client(endpoint=url)
        return client.send(report())


def test_external_entity_is_never_read(make_client, tmp_path):
    """An XXE reply (file entity) is BAD_RESPONSE and the file's content appears nowhere."""
    secret = tmp_path / "secret.txt"
    secret.write_text("true")  # would turn Ok into true if it were ever expanded
    doctype = f'<!DOCTYPE e:Envelope [<!ENTITY xxe SYSTEM "file://{secret}">]>'
    result = post_through_client(make_client, Canned(body=answer_with("&xxe;", doctype)))
    assert not isinstance(result, Answer)
    assert result.kind is FailureKind.BAD_RESPONSE
    assert result.retryable
    assert str(secret) not in result.message


def test_billion_laughs_is_not_expanded(make_client):
    """A billion-laughs reply is BAD_RESPONSE at once, nothing expanded into the message."""
    result = post_through_client(make_client, Canned(body=answer_with("&lol9;", LAUGHS)))
    assert not isinstance(result, Answer)
    assert result.kind is FailureKind.BAD_RESPONSE
    assert "lollol" not in result.message
    assert len(result.message) <= 600


def test_external_dtd_is_never_fetched(make_client):
    """A DOCTYPE naming a DTD on another server: rejected, and that server is never asked."""
    dtd_server = Canned()
    with canned_server(dtd_server) as dtd_url:
        doctype = f'<!DOCTYPE e:Envelope SYSTEM "{dtd_url}/evil.dtd">'
        result = post_through_client(make_client, Canned(body=answer_with("true", doctype)))
    assert not isinstance(result, Answer)
    assert result.kind is FailureKind.BAD_RESPONSE
    assert dtd_server.gets == 0
    assert dtd_server.hits == 0


def test_a_plain_doctype_is_refused_even_when_harmless(make_client):
    """SOAP forbids a DTD: even an empty DOCTYPE around a true answer is no acceptance."""
    result = post_through_client(
        make_client, Canned(body=answer_with("true", "<!DOCTYPE e:Envelope>"))
    )
    assert not isinstance(result, Answer)
    assert result.kind is FailureKind.BAD_RESPONSE


def test_an_oversized_reply_is_not_read_whole(make_client):
    """A reply over 1 MiB is BAD_RESPONSE; the client stops reading it."""
    body = answer_with("true").replace(b"<e:Body>", b"<e:Body>" + b" " * (2 << 20))
    result = post_through_client(make_client, Canned(body=body))
    assert not isinstance(result, Answer)
    assert result.kind is FailureKind.BAD_RESPONSE


@pytest.mark.parametrize(
    "body",
    [answer_with("true").replace(NS.encode(), b"urn:not:udb"), b"{'Ok': true}"],
    ids=["wrong-namespace", "json"],
)
def test_wrong_or_garbage_replies_over_http_are_bad_responses(make_client, body):
    """Over real HTTP, a reply in the wrong namespace or garbage is never an acceptance."""
    result = post_through_client(make_client, Canned(body=body))
    assert not isinstance(result, Answer)
    assert result.kind is FailureKind.BAD_RESPONSE


def test_the_canned_server_answers_a_sane_reply(make_client):
    """Control: the same server with a plain answer gives Answer(ok=True)."""
    assert post_through_client(make_client, Canned(body=answer_with("true"))) == Answer(ok=True)

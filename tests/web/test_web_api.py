"""The HTTP API over real HTTP: tokens, runs by API equal to the CLI's, every run listed."""

from __future__ import annotations

import io
import json
import threading

import openpyxl
import pytest
import requests

from batch.journal import Journal
from batch.web.api_jobs import ApiJob, now, write_job
from batch.web.api_spec import ROW, RUN
from batch.web.mappings import SavedMappings
from batch.web.runs_data import run_detail
from batch.web.tokens import Tokens
from batch.web.uploads import UploadStore
from tests.e2e.helpers import UNMASKED_CPR, run_cli, summary_of, workbook_of
from tests.web.api_kit import EXAMPLES, EXPORT, api, cli, counts, finished, submit, token_for
from tests.web.webkit import serve, settings_for, signed_in

ADDRESSES = [
    ("GET", "/api"),
    ("GET", "/api/runs"),
    ("POST", "/api/runs"),
    ("GET", "/api/runs/abcdefghijklmnopqrstuvwx"),
    ("GET", "/api/runs/20260101T010101-abcd/rows?outcome=fix"),
    ("GET", "/api/runs/20260101T010101-abcd/workbook"),
    ("GET", "/api/openapi.json"),
    ("GET", "/api/docs"),
    ("GET", "/api/no/such/address"),
]


@pytest.mark.parametrize(("method", "path"), ADDRESSES)
def test_every_api_address_needs_a_token(served, method, path):
    """Without a token: 401, WWW-Authenticate: Bearer, a problem, no cookie; a session is no key."""
    session, _csrf = signed_in(served.url)
    for client in (requests.Session(), session):
        answer = client.request(method, f"{served.url}{path}", timeout=10)
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert answer.json()["status"] == 401
        assert "set-cookie" not in answer.headers


def test_a_wrong_or_revoked_token_is_refused(served, tmp_path):
    """A token works until `batch token revoke`; then, like a made-up one, it gets 401."""
    token = token_for(served.settings.state_dir)
    client = api(token)
    assert client.get(f"{served.url}/api/runs", timeout=10).status_code == 200
    made_up = api(token[:-2] + "xx").get(f"{served.url}/api/runs", timeout=10)
    assert made_up.status_code == 401
    assert 'error="invalid_token"' in made_up.headers["WWW-Authenticate"]
    revoked = run_cli(
        "token", "revoke", "sagssystem", state_dir=tmp_path / "state", report_dir=tmp_path
    )
    assert revoked.code == 0, revoked.output
    refused = client.get(f"{served.url}/api/runs", timeout=10)
    assert refused.status_code == 401
    assert refused.json()["type"] == "/api/docs#problem-token-invalid"


def test_a_validation_by_api_counts_as_batch_validate(served, tmp_path):
    """send=false: the counts of `batch validate` on the same file; its Fix rows are listed."""
    client = api(token_for(served.settings.state_dir))
    answer = submit(client, served.url, send="false")
    assert answer.status_code == 202, answer.text
    assert answer.headers["Location"] == f"/api/runs/{answer.json()['id']}"
    shown = finished(client, served.url, answer.json()["id"])
    assert shown["dry_run"] is True
    by_cli = cli("validate", tmp_path / "cli", EXPORT)
    expected = counts(summary_of(workbook_of(tmp_path / "cli" / "reports")))
    assert counts(shown) == expected
    assert expected["ready"] > 0
    assert expected["fix"] > 0, by_cli.output
    fix = client.get(f"{served.url}{shown['links']['rows']}?outcome=fix", timeout=30).json()
    assert len(fix["rows"]) == expected["fix"]
    assert all(row["outcome"] == "fix" and row["message"] for row in fix["rows"])
    assert set(RUN["required"]) <= set(shown)  # the description holds for a real answer
    assert all(set(row) == set(ROW["properties"]) for row in fix["rows"])
    assert run_detail(served.settings.state_dir, shown["run_id"]) is None  # as validate: no trace


def test_a_send_by_api_counts_as_batch_run(served, tmp_path):
    """A send by API ends with `batch run`'s counts; its workbook opens; its Fix rows listed."""
    client = api(token_for(served.settings.state_dir))
    answer = submit(client, served.url)
    assert answer.status_code == 202, answer.text
    assert "simulator" in answer.json()["notice"]  # no endpoint configured: said at once
    shown = finished(client, served.url, answer.json()["id"])
    by_cli = cli("run", tmp_path / "cli", EXPORT)
    assert by_cli.code == 1, by_cli.output  # some rows to fix or drop
    expected = counts(summary_of(workbook_of(tmp_path / "cli" / "reports")))
    assert shown["status"] == "finished"
    assert counts(shown) == expected
    assert shown["exit_code"] == 1
    assert shown["started_by"] == "token:sagssystem"
    runs_page = signed_in(served.url)[0].get(f"{served.url}/runs", timeout=30).text
    assert "token:sagssystem" in runs_page  # the Runs page knows who started it
    book = client.get(f"{served.url}{shown['links']['workbook']}", timeout=30)
    assert book.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(book.content), read_only=True)
    assert workbook["Fix"].max_row - 1 == expected["fix"]
    assert workbook["Accepted"].max_row - 1 == expected["accepted"]
    fix = client.get(f"{served.url}/api/runs/{shown['run_id']}/rows?outcome=fix", timeout=30)
    rows = fix.json()["rows"]
    assert len(rows) == expected["fix"]
    assert all(row["file"] == EXPORT.name and row["row"] > 1 and row["message"] for row in rows)
    assert any(row["problems"] for row in rows)  # which cell to correct, and why


def test_a_nightly_cli_run_shows_up_in_the_list(served, tmp_path):
    """A `batch run` in the server's state directory is listed, and opens to its summary."""
    night = cli("run", tmp_path, EXPORT)
    assert night.code == 1, night.output
    summary = summary_of(workbook_of(tmp_path / "reports"))
    client = api(token_for(served.settings.state_dir))
    listed = client.get(f"{served.url}/api/runs", timeout=30).json()["runs"]
    (run,) = [item for item in listed if item["run_id"] == summary["run_id"]]
    assert run["id"] == summary["run_id"]
    assert counts(run) == counts(summary)
    assert run["started_by"] is None  # the command line
    one = client.get(f"{served.url}/api/runs/{run['id']}", timeout=30).json()
    assert one["exit_code"] == summary["exit_code"]
    assert "workbook" not in one  # a path on the server; the link serves the file
    book = client.get(f"{served.url}{one['links']['workbook']}", timeout=30)
    assert book.content == (tmp_path / "reports" / summary["workbook"].split("/")[-1]).read_bytes()


def test_an_api_run_waits_while_the_nightly_job_holds_the_journal(served):
    """A send asked for while another run holds the lock waits, then runs once it is free."""
    client = api(token_for(served.settings.state_dir))
    journal = Journal.open(served.settings.state_dir)
    try:
        run = submit(client, served.url).json()["id"]
        seen = threading.Event()
        while not seen.is_set():
            status = client.get(f"{served.url}/api/runs/{run}", timeout=30).json()["status"]
            if status == "waiting":
                seen.set()
            else:
                assert status == "queued", status
                seen.wait(0.1)
    finally:
        journal.close()
    assert finished(client, served.url, run)["status"] == "finished"


@pytest.mark.parametrize(
    ("fields", "status", "slug"),
    [
        ({"mapping": "no such mapping"}, 422, "bad-field"),
        ({"send": "maybe"}, 422, "bad-field"),
        ({"sheet": "Ark9"}, 422, "bad-file"),
    ],
)
def test_a_bad_submission_gets_a_problem(served, fields, status, slug):
    """A wrong field or a sheet that is not there: a problem saying what, and nothing kept."""
    client = api(token_for(served.settings.state_dir))
    answer = submit(client, served.url, EXAMPLES / "ungeliste-haandlavet.xlsx", **fields)
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json()["type"] == f"/api/docs#problem-{slug}"
    assert "Traceback" not in answer.text
    assert list((served.settings.state_dir / "uploads").iterdir()) == []


def test_an_empty_file_and_a_plain_post_get_problems(served, tmp_path):
    """An empty file: 422 with the upload page's message; not multipart: 415; bad query: 400."""
    client = api(token_for(served.settings.state_dir))
    empty = tmp_path / "tom.csv"
    empty.write_bytes(b"")
    answer = submit(client, served.url, empty)
    assert answer.status_code == 422
    assert "the file is empty" in answer.json()["detail"]
    plain = client.post(f"{served.url}/api/runs", json={"file": "x"}, timeout=10)
    assert plain.status_code == 415
    unknown = client.get(f"{served.url}/api/runs/abcdefghijklmnopqrstuvwx", timeout=10)
    assert unknown.status_code == 404
    assert unknown.json()["type"] == "/api/docs#problem-not-found"
    night = cli("run", tmp_path, EXPORT)
    run_id = summary_of(workbook_of(tmp_path / "reports"))["run_id"]
    assert night.code == 1, night.output
    for query, wrong in (("outcome=x", "outcome must be"), ("limit=-1", "whole number")):
        bad = client.get(f"{served.url}/api/runs/{run_id}/rows?{query}", timeout=10)
        assert bad.status_code == 400
        assert wrong in bad.json()["detail"]


def test_a_file_over_the_limit_is_refused(tmp_path):
    """A body over `upload_max_mb` gets 413 before it is stored."""
    big = tmp_path / "stor.csv"
    big.write_bytes(b"CPRNr;KontaktNavn\n" + b"2412084170;Anne\n" * 80_000)
    with serve(settings_for(tmp_path, upload_max_mb=1)) as served:
        answer = submit(api(token_for(served.settings.state_dir)), served.url, big)
    assert answer.status_code == 413
    assert answer.json()["type"] == "/api/docs#problem-too-large"


def test_the_openapi_description_matches_the_routes(served):
    """Every API route is described (path and method) and nothing else; the docs list them."""
    from batch.web.api import create_api
    from batch.web.app import create_app

    app = create_app(served.settings)
    api_app = create_api(app.state.web)
    routed = {
        (route.path, method.lower())
        for route in api_app.routes
        for method in route.methods or ()
        if method != "HEAD"
    }
    client = api(token_for(served.settings.state_dir))
    spec = client.get(f"{served.url}/api/openapi.json", timeout=10).json()
    assert spec["openapi"] == "3.1.0"
    described = {
        (path, method)
        for path, item in spec["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert described == routed
    page = client.get(f"{served.url}/api/docs", timeout=10)
    assert page.headers["Content-Type"].startswith("text/html")
    for path, method in described:
        assert f"{method.upper()} {path}" in page.text
    assert 'id="problem-token-invalid"' in page.text
    json.dumps(spec)  # plain JSON, nothing a client cannot read


def test_problems_speak_danish_when_asked(served):
    """`Accept-Language: da` gets the problem's detail in Danish, as the pages would."""
    client = api(token_for(served.settings.state_dir))
    client.headers["Accept-Language"] = "da"
    answer = client.get(f"{served.url}/api/runs/abcdefghijklmnopqrstuvwx", timeout=10)
    assert answer.json()["detail"] == "Der er ingen sådan kørsel eller adresse."


def test_the_docs_page_is_browsable_when_signed_in(served):
    """/help/api shows /api/docs' page to a signed-in browser; to nobody else."""
    session, _csrf = signed_in(served.url)
    page = session.get(f"{served.url}/help/api", timeout=10)
    assert page.status_code == 200
    assert "GET /api/runs/{run}/rows" in page.text
    anonymous = requests.get(f"{served.url}/help/api", timeout=10, allow_redirects=False)
    assert anonymous.status_code == 303


def test_a_restart_runs_queued_jobs_and_fails_the_one_cut_off(tmp_path):
    """Jobs a stopped server left: a queued one runs after the restart; a running one failed."""
    settings = settings_for(tmp_path)
    uploads = UploadStore(settings.state_dir)
    left = {}
    for status in ("queued", "running"):
        with EXPORT.open("rb") as handle:
            upload = uploads.receive("token:sagssystem", EXPORT.name, handle)
        job = ApiJob(upload.id, "sagssystem", EXPORT.name, send=True, submitted=now())
        job.status = status
        write_job(uploads, job)
        left[status] = job.id
    with serve(settings) as served:
        client = api(token_for(served.settings.state_dir))
        cut = client.get(f"{served.url}/api/runs/{left['running']}", timeout=10).json()
        assert cut["status"] == "failed"
        assert "send the file again" in cut["message"]
        assert finished(client, served.url, left["queued"])["status"] == "finished"


def test_a_viewer_token_reads_but_cannot_send(served):
    """A viewer token lists runs; its POST is refused 403 before the file is taken."""
    client = api(Tokens(served.settings.state_dir).create("dashboard", "viewer"))
    assert client.get(f"{served.url}/api/runs", timeout=10).status_code == 200
    refused = submit(client, served.url)
    assert refused.status_code == 403
    assert refused.json()["type"] == "/api/docs#problem-token-role"
    assert not (served.settings.state_dir / "uploads").exists() or not list(
        (served.settings.state_dir / "uploads").iterdir()
    )


def test_no_cpr_number_in_the_api_logs_links_or_problems(served, tmp_path, capsys):
    """A send by API logs no CPR number; links carry none; a problem naming the file masks it."""
    client = api(token_for(served.settings.state_dir))
    answer = submit(client, served.url)
    shown = finished(client, served.url, answer.json()["id"])
    assert not any(UNMASKED_CPR.search(link) for link in shown["links"].values())
    named = tmp_path / "0101085123.xlsx"
    named.write_bytes((EXAMPLES / "ungeliste-haandlavet.xlsx").read_bytes())
    refused = submit(client, served.url, named, sheet="Ark9")
    assert refused.status_code == 422
    assert "0101085123" not in refused.text
    assert "010108-XXXX" in refused.json()["detail"]
    logged = capsys.readouterr()
    assert not UNMASKED_CPR.search(logged.out + logged.err)


def test_a_saved_mapping_is_used_by_name(served, tmp_path):
    """`mapping` names a mapping saved on the Columns page: headers no alias knows are read."""
    odd = tmp_path / "egen.csv"
    odd.write_text(
        "Barnets nummer;Vejleder;Vejleders post;Hvornaar\n"
        "2412084170;Anne Friis;anne@example.dk;2025-08-18 09:00\n",
        encoding="utf-8",
    )
    mapping = {
        "Barnets nummer": "CPRNr",
        "Vejleder": "KontaktNavn",
        "Vejleders post": "KontaktMail",
        "Hvornaar": "KontaktRegistreringstid",
    }
    SavedMappings(served.settings.state_dir).save("Egen liste", mapping)
    client = api(token_for(served.settings.state_dir))
    unmapped = submit(client, served.url, odd, send="false")
    assert unmapped.status_code == 422  # no column the reader knows as the CPR number
    answer = submit(client, served.url, odd, send="false", mapping="Egen liste")
    assert answer.status_code == 202, answer.text
    assert counts(finished(client, served.url, answer.json()["id"]))["ready"] == 1


def test_stop_ends_an_api_run_as_ctrl_c_does(tmp_path):
    """Stop while sending: rows in flight finish, the rest wait in Retry; every row counted."""
    lines = ["CPRNr;KontaktNavn;KontaktMail;KontaktRegistreringstid"]
    lines += [
        f"2412084170;Anne Friis;anne@example.dk;2025-08-{day:02d} 09:00" for day in range(1, 13)
    ]
    slow = tmp_path / "lang.csv"
    slow.write_text("\n".join(lines), encoding="utf-8")
    with serve(settings_for(tmp_path, rate=1.0, concurrency=1)) as served:
        client = api(token_for(served.settings.state_dir))
        run = submit(client, served.url, slow).json()["id"]
        while client.get(f"{served.url}/api/runs/{run}", timeout=10).json()["status"] != "running":
            threading.Event().wait(0.1)
        stopping = client.post(f"{served.url}/api/runs/{run}/stop", timeout=10)
        assert stopping.status_code == 202
        shown = finished(client, served.url, run)
        again = client.post(f"{served.url}/api/runs/{run}/stop", timeout=10)
    assert shown["status"] == "interrupted"
    assert shown["retry"] > 0
    assert shown["rows"] == 12
    assert again.status_code == 409


def test_stop_before_the_lock_is_free_means_it_never_runs(served, tmp_path):
    """A run waiting for the lock, or queued behind it, stops without running; a CLI run: 409."""
    client = api(token_for(served.settings.state_dir))
    journal = Journal.open(served.settings.state_dir)
    try:
        waiting, queued = (submit(client, served.url).json()["id"] for _ in range(2))
        while client.get(f"{served.url}/api/runs/{waiting}", timeout=10).json()["status"] != (
            "waiting"
        ):
            threading.Event().wait(0.1)
        for run in (queued, waiting):
            assert client.post(f"{served.url}/api/runs/{run}/stop", timeout=10).status_code == 202
        assert finished(client, served.url, waiting)["status"] == "stopped"
    finally:
        journal.close()
    assert finished(client, served.url, queued)["status"] == "stopped"
    night = cli("run", tmp_path, EXPORT)
    run_id = summary_of(workbook_of(tmp_path / "reports"))["run_id"]
    assert night.code == 1, night.output
    refused = client.post(f"{served.url}/api/runs/{run_id}/stop", timeout=10)
    assert refused.status_code == 409
    assert refused.json()["type"] == "/api/docs#problem-not-stoppable"

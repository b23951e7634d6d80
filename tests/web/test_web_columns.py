"""The Columns page: sheets, the header row, mappings saved and offered; the grid's filter."""

from __future__ import annotations

import io

import openpyxl

from tests.web.webkit import columns_form, signed_in, upload

HEADER = ["CPR", "Kontaktperson", "Mail", "Kontakt registreret", "Intern note"]
ROW = ["2412084170", "Anne Friis", "anne@example.dk", "2025-08-18 09:00", "x"]


def _two_sheets() -> bytes:
    book = openpyxl.Workbook()
    first = book.active
    first.title = "Forside"
    first.append(["Eksport fra fagsystemet"])
    second = book.create_sheet("Unge")
    second.append(["Udtræk 1. december"])
    second.append(HEADER)
    second.append(ROW)
    second.append(["0303064561", "Bo Berg", "ikke-en-mail", "2025-08-18 09:00", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_sheet_and_header_row_can_be_chosen(served):
    """Several sheets: each is offered; the chosen one's detected header row can be changed."""
    client, token = signed_in(served.url)
    page = upload(client, served.url, token, "to-ark.xlsx", _two_sheets())
    assert 'value="Forside"' in page.text
    assert 'value="Unge"' in page.text
    form = columns_form(page.text, token, action="reload")
    form["sheet"] = "Unge"
    page = client.post(page.url, data=form, timeout=30)
    form = columns_form(page.text, token, action="reload")
    assert form["shown_sheet"] == "Unge"
    assert form["header_row"] == "2"
    assert form["header-0"] == "CPR"
    form["header_row"] = "3"  # a data row as header: its cells become the headers
    page = client.post(page.url, data=form, timeout=30)
    assert columns_form(page.text, token)["header-0"] == "2412084170"


def test_a_saved_mapping_is_offered_and_used_for_the_next_upload(served):
    """A mapping saved under a name is applied to the next upload with the same headers."""
    client, token = signed_in(served.url)
    data = ("\n".join([";".join(HEADER), ";".join(ROW)]) + "\n").encode()
    page = upload(client, served.url, token, "første.csv", data)
    form = columns_form(page.text, token)
    assert form["field-4"] == "ignore"
    form["field-4"] = "JobOnsker"  # the note is taken as a job wish, to tell the mappings apart
    form["action"] = "reload"
    client.post(page.url, data=form, timeout=30)
    upload_id = page.url.split("/")[-2]
    client.post(
        f"{served.url}/uploads/{upload_id}/mapping/save",
        data={"csrf": token, "name": "KUI-eksport"},
        timeout=30,
    )
    second = upload(client, served.url, token, "anden.csv", data)
    assert "KUI-eksport" in second.text
    assert columns_form(second.text, token)["field-4"] == "JobOnsker"


def test_the_grid_filters_by_status(served):
    """Asking for one status gives only its rows, with the cell's message by column."""
    client, token = signed_in(served.url)
    data = "\n".join(
        [";".join(HEADER), ";".join(ROW), "0303064561;Bo Berg;ikke-en-mail;2025-08-18 09:00;"]
    ).encode()
    page = upload(client, served.url, token, "filter.csv", data)
    client.post(page.url, data=columns_form(page.text, token), timeout=30)
    upload_id = page.url.split("/")[-2]
    fix = client.get(f"{served.url}/uploads/{upload_id}/rows?status=fix", timeout=10).json()
    assert [row["n"] for row in fix["data"]] == [3]
    assert "e-mail" in fix["data"][0]["p2"]
    ready = client.get(f"{served.url}/uploads/{upload_id}/rows?status=ready", timeout=10).json()
    assert [row["n"] for row in ready["data"]] == [2]


def test_saving_a_mapping_through_htmx_needs_the_token(served):
    """The htmx form sends the CSRF token as a header; without it nothing is saved."""
    client, token = signed_in(served.url)
    data = ("\n".join([";".join(HEADER), ";".join(ROW)]) + "\n").encode()
    page = upload(client, served.url, token, "htmx.csv", data)
    upload_id = page.url.split("/")[-2]
    client.post(page.url, data=columns_form(page.text, token, action="reload"), timeout=30)
    target = f"{served.url}/uploads/{upload_id}/mapping/save"
    refused = client.post(target, data={"name": "Uden"}, headers={"HX-Request": "true"}, timeout=30)
    assert refused.status_code == 403
    saved = client.post(
        target,
        data={"name": "Med"},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
        timeout=30,
    )
    assert saved.status_code == 200
    assert "Saved as Med" in saved.text
    assert "<html" not in saved.text  # a fragment, not a page
    offered = upload(client, served.url, token, "igen.csv", data)
    assert "Med" in offered.text
    assert "Uden" not in offered.text

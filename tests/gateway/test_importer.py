"""`contact-gateway import` checks each row as the gateway would before sending it."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.importer import ImportFailed, read_file


def test_a_row_is_skipped_with_every_problem_it_has_and_national_phones_go_on(
    tmp_path: Path,
) -> None:
    path = tmp_path / "people.csv"
    rows = [
        "email,firstName,phones,tags",
        "ok@example.com,Ada,+358 40 123 4567;040 123 4567,vip",
        "broken,Bob,+1 555 0100,-vip",
        "fine@example.com,Cy,(555) 010-0100,",
    ]
    path.write_text("\n".join(rows) + "\n")

    read = read_file(str(path))

    assert read.bad == [
        (
            3,
            "email is not a valid email address; phones[0] is not a phone number: it lacks "
            "its area code; tags[0] must not start with '-'; use untagContact to remove a tag",
        )
    ]
    assert read.lines == [2, 4]
    # The gateway reads a number without a + in its own region: the file keeps it as written.
    assert read.inputs[0]["phones"] == ["+358 40 123 4567", "040 123 4567"]


def test_the_new_fields_are_read_from_csv_and_sent_as_graphql_spells_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "people.csv"
    rows = [
        "email,urls,notes,type,lifecycle,address.city,address.country,signedUpAt,ownerId",
        "ok@example.com,https://a.test;https://b.test,Met at a fair,employee,member,Oslo,"
        "Norway,2026-01-31T09:00:00Z,2",
        "bad@example.com,a.test,,staff,,,,2026-01-31T09:00:00,x",
    ]
    path.write_text("\n".join(rows) + "\n")

    read = read_file(str(path))

    assert read.inputs == [
        {
            "email": "ok@example.com",
            "urls": ["https://a.test", "https://b.test"],
            "notes": "Met at a fair",
            "type": "EMPLOYEE",
            "lifecycle": "MEMBER",
            "address": {"city": "Oslo", "country": "Norway"},
            "signedUpAt": "2026-01-31T09:00:00Z",
            "ownerId": "2",
        }
    ]
    assert read.bad == [(3, "type must be one of CUSTOMER, EMPLOYEE, OTHER")]
    fixed = rows[2].replace("staff", "customer")
    path.write_text("\n".join([rows[0], fixed]) + "\n")
    assert read_file(str(path)).bad == [
        (
            2,
            "urls[0] is not a web address: it needs http:// or https:// and a host; "
            "signedUpAt needs a time zone offset (e.g. 2026-01-31T09:00:00Z); "
            "ownerId is not an Adaptix user id (a number)",
        )
    ]


def test_an_address_part_without_its_prefix_is_an_unknown_column_of_the_file(
    tmp_path: Path,
) -> None:
    """Said once, on line 1, not once per row."""
    path = tmp_path / "people.csv"
    path.write_text("email,city\na@example.com,Oulu\nb@example.com,Turku\n")
    with pytest.raises(ImportFailed, match="line 1: unknown column 'city'"):
        read_file(str(path))
    path.write_text("email,address.city\na@example.com,Oulu\n")
    assert read_file(str(path)).bad == []

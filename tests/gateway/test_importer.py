"""`contact-gateway import` checks each row as the gateway would before sending it."""

from __future__ import annotations

from pathlib import Path

from gateway.importer import read_file


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

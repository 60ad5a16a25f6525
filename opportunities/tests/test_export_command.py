"""`manage.py export_opportunities`: CSV to stdout or a file, Excel to a file."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from opportunities.exports import EXPORT_COLUMNS, HEADERS, opportunities_csv_pieces
from opportunities.exports_xlsx import column_title
from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_deals() -> list[Opportunity]:
    OpportunityFactory.create(is_deleted=True)
    return [
        OpportunityFactory.create(amount_sgd=Decimal(f"{index}1234.56"), currency="EUR")
        for index in range(1, 4)
    ]


def _run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("export_opportunities", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_xlsx_writes_a_valid_workbook_of_every_live_deal(
    three_deals: list[Opportunity], tmp_path: Path
) -> None:
    target = tmp_path / "deals.xlsx"
    out, err = _run("--format", "xlsx", "--output", str(target))
    assert out == ""
    assert err.strip() == f"Exported 3 deals to {target}."
    rows = list(load_workbook(target, read_only=True)["Deals"].iter_rows(values_only=True))
    assert rows[0] == tuple(column_title(c) for c in EXPORT_COLUMNS)
    assert [row[0] for row in rows[1:]] == sorted(deal.zoho_id for deal in three_deals)
    amounts = [Decimal(str(row[HEADERS.index("amount_sgd")])) for row in rows[1:]]
    assert amounts == [deal.amount_sgd for deal in sorted(three_deals, key=lambda d: d.zoho_id)]


def test_xlsx_needs_an_output_file() -> None:
    with pytest.raises(CommandError, match="needs --output FILE"):
        _run("--format", "xlsx")


def test_an_output_in_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="is not a directory"):
        _run("--output", str(tmp_path / "nowhere" / "deals.csv"))


def test_csv_goes_to_stdout_or_to_a_file(three_deals: list[Opportunity], tmp_path: Path) -> None:
    out, err = _run()
    assert err.strip() == "Exported 3 deals."
    target = tmp_path / "deals.csv"
    _, err = _run("--format", "csv", "--output", str(target))
    assert err.strip() == f"Exported 3 deals to {target}."
    from_file = target.read_bytes().decode()  # as written: rows end in CRLF, as CSV says
    assert from_file == out
    rows = list(csv.DictReader(io.StringIO(from_file)))
    assert [row["zoho_id"] for row in rows] == sorted(deal.zoho_id for deal in three_deals)


def test_the_streamed_csv_is_the_same_text_in_pieces(three_deals: list[Opportunity]) -> None:
    deals = Opportunity.objects.live().order_by("zoho_id")
    pieces = list(opportunities_csv_pieces(deals, piece_bytes=100))
    assert len(pieces) > 3
    out, _ = _run()
    assert b"".join(pieces).decode() == out


def test_the_command_neutralises_formulas_and_writes_a_bom_when_asked(tmp_path: Path) -> None:
    OpportunityFactory.create(name="=1+2", territory="Zürich")
    out, _ = _run()
    assert out.startswith("zoho_id,")
    assert next(iter(csv.DictReader(io.StringIO(out))))["name"] == "'=1+2"
    target = tmp_path / "deals.csv"
    _run("--bom", "--output", str(target))
    assert target.read_bytes().startswith("\ufeffzoho_id,".encode())
    assert target.read_bytes().decode("utf-8-sig") == out

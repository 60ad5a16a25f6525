"""Trigram indexes for the board's and the API's search (`?q=`).

`icontains` compiles to `UPPER(column::text) LIKE UPPER('%text%')`: a GIN trigram index on
that very expression answers it without reading every deal. Accounts and owners are small
tables and are matched first (opportunities.filters.DealFilter.search), so every arm of
the search can use an index.
"""

from django.db import migrations

TABLE = "opportunities_opportunity"
INDEXES = {
    "opp_name_trgm_idx": "name",
    "opp_stage_trgm_idx": "stage",
    "opp_zoho_id_trgm_idx": "zoho_id",
}


def create_indexes(apps, schema_editor):
    # pg_trgm is a trusted extension: the database's owner may create it. Going back leaves
    # it installed, as other objects may have come to use it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{TABLE}" '  # noqa: S608  # fixed names
            f'USING gin (UPPER("{column}"::text) gin_trgm_ops)'
        )


def drop_indexes(apps, schema_editor):
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("opportunities", "0009_board_in_play_index")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]

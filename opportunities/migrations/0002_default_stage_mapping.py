from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

# Zoho's standard Deals pipeline (product.md, "O2R lifecycle"). A lost stage has no phase:
# the deal keeps the phase it had reached.
DEFAULT_STAGE_MAPPING = (
    ("Qualification", 1, "open"),
    ("Needs Analysis", 2, "open"),
    ("Value Proposition", 2, "open"),
    ("Id. Decision Makers", 2, "open"),
    ("Proposal/Price Quote", 3, "open"),
    ("Negotiation/Review", 3, "open"),
    ("Closed Won", 4, "won"),
    ("Closed Lost", None, "lost"),
    ("Closed Lost to Competition", None, "lost"),
)


def load_default_mapping(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    stage_mapping = apps.get_model("opportunities", "StageMapping")
    for stage, phase, outcome in DEFAULT_STAGE_MAPPING:
        stage_mapping.objects.get_or_create(
            stage=stage, defaults={"phase": phase, "outcome": outcome}
        )


def remove_default_mapping(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    stage_mapping = apps.get_model("opportunities", "StageMapping")
    stage_mapping.objects.filter(stage__in=[row[0] for row in DEFAULT_STAGE_MAPPING]).delete()


class Migration(migrations.Migration):
    dependencies = [("opportunities", "0001_initial")]

    operations = [migrations.RunPython(load_default_mapping, remove_default_mapping)]

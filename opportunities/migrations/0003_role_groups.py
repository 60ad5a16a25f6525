from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from opportunities.services.logins import role_groups_sync


def create_role_groups(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    role_groups_sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("opportunities", "0002_default_stage_mapping"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_role_groups, migrations.RunPython.noop)]

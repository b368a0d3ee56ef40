from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("chainsync", "0005_contract_settings_plural")]

    operations = [
        migrations.AddField(
            model_name="syncstate",
            name="logs_through_tx",
            field=models.CharField(blank=True, max_length=66),
        ),
        migrations.AddField(
            model_name="syncstate",
            name="logs_walked_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]

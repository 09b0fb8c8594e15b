from tortoise import migrations
from tortoise.migrations import operations as ops
from models.clock import new_id, now
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('circles', '0020_circle_visibility')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RateWindow',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('key', fields.CharField(max_length=300)),
                ('started_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('hits', fields.IntField(default=0)),
            ],
            options={'table': 'rate_windows', 'app': 'circles', 'unique_together': (('key', 'started_at'),), 'pk_attr': 'id'},
            bases=['Entity'],
        ),
    ]

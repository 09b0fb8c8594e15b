from tortoise import migrations
from tortoise.migrations import operations as ops
from models.clock import new_id, now
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('circles', '0021_rate_windows')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PasswordReset',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('account', fields.ForeignKeyField('circles.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='password_resets', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_by', fields.ForeignKeyField('circles.Account', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='password_resets_made', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'password_resets', 'app': 'circles', 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.AddField(
            model_name='Account',
            name='discoverable',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='Account',
            name='indexable',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='Account',
            name='profile_shows_circles',
            field=fields.BooleanField(default=True),
        ),
        ops.AddField(
            model_name='Account',
            name='profile_shows_posts',
            field=fields.BooleanField(default=True),
        ),
    ]

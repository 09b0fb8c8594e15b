from tortoise import migrations
from tortoise.migrations import operations as ops
from models.clock import new_id, now
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('circles', '0038_post_edited_at')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OAuthApp',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('name', fields.CharField(max_length=200)),
                ('website', fields.CharField(null=True, max_length=2048)),
                ('redirect_uris', fields.TextField(unique=False)),
                ('scopes', fields.CharField(default='read', max_length=1000)),
                ('client_id', fields.CharField(unique=True, max_length=64)),
                ('client_secret_digest', fields.CharField(max_length=64)),
            ],
            options={'table': 'oauth_apps', 'app': 'circles', 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.CreateModel(
            name='OAuthGrant',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('app', fields.ForeignKeyField('circles.OAuthApp', source_field='app_id', db_constraint=True, to_field='id', related_name='grants', on_delete=OnDelete.CASCADE)),
                ('account', fields.ForeignKeyField('circles.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='oauth_grants', on_delete=OnDelete.CASCADE)),
                ('code_digest', fields.CharField(unique=True, max_length=64)),
                ('redirect_uri', fields.TextField(unique=False)),
                ('scopes', fields.CharField(max_length=1000)),
                ('code_challenge', fields.CharField(default='', max_length=128)),
                ('code_challenge_method', fields.CharField(default='', max_length=8)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'oauth_grants', 'app': 'circles', 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.CreateModel(
            name='OAuthToken',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('app', fields.ForeignKeyField('circles.OAuthApp', source_field='app_id', db_constraint=True, to_field='id', related_name='tokens', on_delete=OnDelete.CASCADE)),
                ('account', fields.ForeignKeyField('circles.Account', source_field='account_id', null=True, db_constraint=True, to_field='id', related_name='oauth_tokens', on_delete=OnDelete.CASCADE)),
                ('token_digest', fields.CharField(unique=True, max_length=64)),
                ('scopes', fields.CharField(max_length=1000)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'oauth_tokens', 'app': 'circles', 'pk_attr': 'id'},
            bases=['Entity'],
        ),
    ]

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.clock import new_id, now
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('circles', '0005_featured_posts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CircleTopic',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('circle', fields.ForeignKeyField('circles.Circle', source_field='circle_id', db_constraint=True, to_field='id', related_name='topics', on_delete=OnDelete.CASCADE)),
                ('tag', fields.CharField(db_index=True, max_length=40)),
            ],
            options={'table': 'circle_topics', 'app': 'circles', 'unique_together': (('circle', 'tag'),), 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.CreateModel(
            name='SafeQuestionReveal',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('circle', fields.ForeignKeyField('circles.Circle', source_field='circle_id', db_constraint=True, to_field='id', related_name='reveals', on_delete=OnDelete.CASCADE)),
                ('post', fields.ForeignKeyField('circles.Post', source_field='post_id', db_constraint=True, to_field='id', related_name='reveals', on_delete=OnDelete.CASCADE)),
                ('viewer', fields.ForeignKeyField('circles.Actor', source_field='viewer_id', db_constraint=True, to_field='id', related_name='reveals', on_delete=OnDelete.CASCADE)),
                ('reason', fields.CharField(default='', max_length=300)),
            ],
            options={'table': 'safe_question_reveals', 'app': 'circles', 'indexes': [Index(fields=['circle_id', 'created_at'])], 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.AddField(
            model_name='Circle',
            name='charter_adopted_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Circle',
            name='meeting_cadence',
            field=fields.CharField(default='', max_length=120),
        ),
        ops.AddField(
            model_name='Circle',
            name='size_limit',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Post',
            name='accepted_answer',
            field=fields.ForeignKeyField('circles.Post', source_field='accepted_answer_id', null=True, db_constraint=True, to_field='id', related_name='accepted_for', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Post',
            name='answered_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Post',
            name='asked_by',
            field=fields.ForeignKeyField('circles.Actor', source_field='asked_by_id', null=True, db_constraint=True, to_field='id', related_name='safe_questions', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='RemoteHost',
            name='software_checked_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]

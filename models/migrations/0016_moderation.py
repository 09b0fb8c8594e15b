from tortoise import migrations
from tortoise.migrations import operations as ops
from models.clock import new_id, now
from models.moderation import ModerationKind, ReportCategory, ReportState
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('circles', '0015_remote_tutoring')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ModerationAction',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('circle', fields.ForeignKeyField('circles.Circle', source_field='circle_id', db_constraint=True, to_field='id', related_name='moderation_log', on_delete=OnDelete.CASCADE)),
                ('moderator', fields.ForeignKeyField('circles.Actor', source_field='moderator_id', db_constraint=True, to_field='id', related_name='moderation_actions', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='REMOVE_POST: remove_post\nBAN: ban\nUNBAN: unban\nRESOLVE_REPORT: resolve_report\nDISMISS_REPORT: dismiss_report', enum_type=ModerationKind, max_length=16)),
                ('target_actor', fields.ForeignKeyField('circles.Actor', source_field='target_actor_id', null=True, db_constraint=True, to_field='id', related_name='moderation_received', on_delete=OnDelete.SET_NULL)),
                ('post', fields.ForeignKeyField('circles.Post', source_field='post_id', null=True, db_constraint=True, to_field='id', related_name='moderation_actions', on_delete=OnDelete.SET_NULL)),
                ('reason', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'moderation_actions', 'app': 'circles', 'indexes': [Index(fields=['circle_id', 'created_at'])], 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.AddField(
            model_name='RemoteHost',
            name='block_reason',
            field=fields.TextField(default='', unique=False),
        ),
        ops.AddField(
            model_name='RemoteHost',
            name='blocked_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Report',
            name='category',
            field=fields.CharEnumField(default=ReportCategory.OTHER, description='SPAM: spam\nHARASSMENT: harassment\nUNSAFE: unsafe\nRULES: rules\nOTHER: other', enum_type=ReportCategory, max_length=16),
        ),
        ops.AddField(
            model_name='Report',
            name='circle',
            field=fields.ForeignKeyField('circles.Circle', source_field='circle_id', null=True, db_constraint=True, to_field='id', related_name='reports', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='Report',
            name='forwarded',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='Report',
            name='post',
            field=fields.ForeignKeyField('circles.Post', source_field='post_id', null=True, db_constraint=True, to_field='id', related_name='reports', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Report',
            name='resolution_note',
            field=fields.TextField(default='', unique=False),
        ),
        ops.AddField(
            model_name='Report',
            name='resolved_by',
            field=fields.ForeignKeyField('circles.Actor', source_field='resolved_by_id', null=True, db_constraint=True, to_field='id', related_name='reports_resolved', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Report',
            name='state',
            field=fields.CharEnumField(default=ReportState.OPEN, description='OPEN: open\nRESOLVED: resolved\nDISMISSED: dismissed', enum_type=ReportState, max_length=16),
        ),
        ops.AddIndex(
            model_name='Report',
            index=Index(fields=['state', 'circle_id']),
        ),
    ]

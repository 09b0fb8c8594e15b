from tortoise import migrations
from tortoise.migrations import operations as ops
from models.clock import new_id, now
from models.governance import DecisionRule, ProposalKind, ProposalState, VoteChoice
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('circles', '0009_resources')]

    initial = False

    operations = [
        ops.CreateModel(
            name='GovernanceSettings',
            fields=[
                ('id', fields.BigIntField(primary_key=True, default=new_id, unique=True, db_index=True, generated=False)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('circle', fields.OneToOneField('circles.Circle', source_field='circle_id', db_constraint=True, to_field='id', related_name='governance_settings', on_delete=OnDelete.CASCADE)),
                ('decision_rule', fields.CharEnumField(default=DecisionRule.MAJORITY, description='MAJORITY: majority\nCONSENT: consent', enum_type=DecisionRule, max_length=16)),
                ('quorum', fields.IntField(default=0)),
            ],
            options={'table': 'governance_settings', 'app': 'circles', 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.CreateModel(
            name='Proposal',
            fields=[
                ('id', fields.BigIntField(primary_key=True, default=new_id, unique=True, db_index=True, generated=False)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('post', fields.OneToOneField('circles.Post', source_field='post_id', db_constraint=True, to_field='id', related_name='proposal', on_delete=OnDelete.CASCADE)),
                ('circle', fields.ForeignKeyField('circles.Circle', source_field='circle_id', db_constraint=True, to_field='id', related_name='proposals', on_delete=OnDelete.CASCADE)),
                ('proposer', fields.ForeignKeyField('circles.Actor', source_field='proposer_id', db_constraint=True, to_field='id', related_name='proposals', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='RULES: rules\nPURPOSE: purpose\nJOIN_MODE: join_mode\nADD_FACILITATOR: add_facilitator\nREMOVE_FACILITATOR: remove_facilitator\nROTATE_FACILITATION: rotate_facilitation\nFREE_TEXT: free_text', enum_type=ProposalKind, max_length=24)),
                ('value_text', fields.TextField(default='', unique=False)),
                ('value_actor', fields.ForeignKeyField('circles.Actor', source_field='value_actor_id', null=True, db_constraint=True, to_field='id', related_name='proposals_about', on_delete=OnDelete.SET_NULL)),
                ('decision_rule', fields.CharEnumField(description='MAJORITY: majority\nCONSENT: consent', enum_type=DecisionRule, max_length=16)),
                ('quorum', fields.IntField(default=0)),
                ('closes_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('state', fields.CharEnumField(default=ProposalState.OPEN, description='OPEN: open\nPASSED: passed\nREJECTED: rejected\nWITHDRAWN: withdrawn', enum_type=ProposalState, max_length=16)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('outcome', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'proposals', 'app': 'circles', 'indexes': [Index(fields=['state', 'closes_at']), Index(fields=['circle_id', 'state', 'decided_at'])], 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.CreateModel(
            name='Vote',
            fields=[
                ('id', fields.BigIntField(primary_key=True, default=new_id, unique=True, db_index=True, generated=False)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('proposal', fields.ForeignKeyField('circles.Proposal', source_field='proposal_id', db_constraint=True, to_field='id', related_name='votes', on_delete=OnDelete.CASCADE)),
                ('voter', fields.ForeignKeyField('circles.Actor', source_field='voter_id', db_constraint=True, to_field='id', related_name='votes', on_delete=OnDelete.CASCADE)),
                ('choice', fields.CharEnumField(description='YES: yes\nNO: no\nABSTAIN: abstain\nBLOCK: block', enum_type=VoteChoice, max_length=16)),
                ('reason', fields.TextField(default='', unique=False)),
                ('uri', fields.CharField(null=True, max_length=2048)),
                ('updated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'votes', 'app': 'circles', 'unique_together': (('proposal', 'voter'),), 'pk_attr': 'id'},
            bases=['Entity'],
        ),
    ]

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.circles import Visibility
from models.governance import ProposalKind
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('circles', '0019_nodeinfo_retry')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Circle',
            name='visibility',
            field=fields.CharEnumField(default=Visibility.PUBLIC, description='PUBLIC: public\nMEMBERS: members', enum_type=Visibility, max_length=16),
        ),
        ops.AlterField(
            model_name='Proposal',
            name='kind',
            field=fields.CharEnumField(description='RULES: rules\nPURPOSE: purpose\nJOIN_MODE: join_mode\nVISIBILITY: visibility\nADD_FACILITATOR: add_facilitator\nREMOVE_FACILITATOR: remove_facilitator\nROTATE_FACILITATION: rotate_facilitation\nFREE_TEXT: free_text', enum_type=ProposalKind, max_length=24),
        ),
    ]

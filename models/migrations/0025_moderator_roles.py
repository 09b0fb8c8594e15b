from tortoise import migrations
from tortoise.migrations import operations as ops
from models.governance import ProposalKind
from models.moderation import ModerationKind
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('circles', '0024_circle_invites')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='ModerationAction',
            name='kind',
            field=fields.CharEnumField(description='REMOVE_POST: remove_post\nBAN: ban\nUNBAN: unban\nRESOLVE_REPORT: resolve_report\nDISMISS_REPORT: dismiss_report\nGIVE_MODERATOR: give_moderator\nTAKE_MODERATOR: take_moderator', enum_type=ModerationKind, max_length=16),
        ),
        ops.AlterField(
            model_name='Proposal',
            name='kind',
            field=fields.CharEnumField(description='RULES: rules\nPURPOSE: purpose\nJOIN_MODE: join_mode\nVISIBILITY: visibility\nADD_FACILITATOR: add_facilitator\nREMOVE_FACILITATOR: remove_facilitator\nROTATE_FACILITATION: rotate_facilitation\nADD_MODERATOR: add_moderator\nREMOVE_MODERATOR: remove_moderator\nFREE_TEXT: free_text', enum_type=ProposalKind, max_length=24),
        ),
    ]

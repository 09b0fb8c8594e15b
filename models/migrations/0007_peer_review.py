from tortoise import migrations
from tortoise.migrations import operations as ops
from models.clock import new_id, now
from models.posts import PostKind
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('circles', '0006_profiles_and_questions')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Feedback',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('reply', fields.OneToOneField('circles.Post', source_field='reply_id', db_constraint=True, to_field='id', related_name='feedback', on_delete=OnDelete.CASCADE)),
                ('works', fields.TextField(default='', unique=False)),
                ('questions', fields.TextField(default='', unique=False)),
                ('suggestions', fields.TextField(default='', unique=False)),
                ('helpful_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'feedback', 'app': 'circles', 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.AlterField(
            model_name='Post',
            name='kind',
            field=fields.CharEnumField(default=PostKind.DISCUSSION, description='DISCUSSION: discussion\nQUESTION: question\nANSWER: answer\nRESOURCE: resource\nMEETING: meeting\nREFLECTION: reflection\nPROPOSAL: proposal\nREVIEW: review', enum_type=PostKind, max_length=16),
        ),
    ]

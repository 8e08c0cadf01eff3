"""The messaging models, moved from `automations` (email templates, the outbox, suppressions, notifications) and
`churnapp` (webhook endpoints and deliveries) with their data.

The models enter this app's state on the tables they already have (no database operation), then those tables are
renamed to this app's names. Their indexes and constraints keep the names they were created with (the models name
them explicitly). Migrations 0011 of automations and 0004 of churnapp drop the models from those apps' state only.
"""

import django.db.models.deletion
import django.utils.timezone
import messaging.models
from django.conf import settings
from django.db import migrations, models


STATE = [
    migrations.CreateModel(
        name='EmailTemplate',
        fields=[
            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
            ('key', models.SlugField(max_length=100, unique=True)),
            ('name', models.CharField(max_length=200)),
            ('subject', models.CharField(max_length=255)),
            ('body_text', models.TextField()),
            ('body_html', models.TextField(blank=True, help_text='Optional; built from the text body when empty.')),
            ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
            ('updated_at', models.DateTimeField(auto_now=True)),
        ],
        options={
            'db_table': 'automations_emailtemplate',
            'ordering': ['name'],
        },
    ),
    migrations.CreateModel(
        name='Suppression',
        fields=[
            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
            ('email', models.EmailField(max_length=254, unique=True)),
            ('reason', models.CharField(default='unsubscribed', max_length=64)),
            ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
        ],
        options={
            'db_table': 'automations_suppression',
            'ordering': ['-created_at'],
        },
    ),
    migrations.CreateModel(
        name='WebhookEndpoint',
        fields=[
            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
            ('url', models.URLField(max_length=500)),
            ('description', models.CharField(blank=True, max_length=200)),
            ('events', models.JSONField(default=list, help_text='Event names this endpoint receives.')),
            ('secret', models.CharField(max_length=64)),
            ('is_active', models.BooleanField(default=True)),
            ('consecutive_failures', models.PositiveIntegerField(default=0)),
            ('disabled_at', models.DateTimeField(blank=True, null=True)),
            ('disabled_reason', models.CharField(blank=True, max_length=255)),
            ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
            ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
        ],
        options={
            'db_table': 'churnapp_webhookendpoint',
            'ordering': ['-created_at', '-id'],
        },
    ),
    migrations.CreateModel(
        name='EmailMessage',
        fields=[
            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
            ('to_email', models.EmailField(max_length=254)),
            ('subject', models.CharField(max_length=255)),
            ('body_text', models.TextField()),
            ('body_html', models.TextField(blank=True)),
            ('source', models.CharField(default='manual', max_length=32)),
            ('status', models.CharField(choices=[('queued', 'Queued'), ('sending', 'Sending'), ('sent', 'Sent'), ('failed', 'Failed'), ('suppressed', 'Suppressed'), ('unknown', 'Unknown — check and decide')], default='queued', max_length=16)),
            ('status_reason', models.CharField(blank=True, max_length=255)),
            ('dedupe_key', models.CharField(blank=True, max_length=255)),
            ('token', models.CharField(default=messaging.models._new_token, max_length=64, unique=True)),
            ('attempts', models.PositiveSmallIntegerField(default=0)),
            ('claimed_at', models.DateTimeField(blank=True, help_text='When a worker took it for sending.', null=True)),
            ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
            ('sent_at', models.DateTimeField(blank=True, null=True)),
            ('opened_at', models.DateTimeField(blank=True, null=True)),
            ('clicked_at', models.DateTimeField(blank=True, null=True)),
            ('open_count', models.PositiveIntegerField(default=0)),
            ('click_count', models.PositiveIntegerField(default=0)),
            ('account', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='email_messages', to='accounts.account')),
            ('contact', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='email_messages', to='accounts.contact')),
            ('template', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='messages', to='messaging.emailtemplate')),
        ],
        options={
            'db_table': 'automations_emailmessage',
            'ordering': ['-created_at', '-id'],
            'indexes': [models.Index(fields=['contact', 'created_at'], name='automations_contact_1fb968_idx'), models.Index(fields=['to_email', 'created_at'], name='automations_to_emai_32d688_idx'), models.Index(fields=['status', 'created_at'], name='automations_status_df6a16_idx'), models.Index(fields=['template', 'status'], name='automations_templat_64f7ba_idx')],
            'constraints': [models.UniqueConstraint(condition=models.Q(('dedupe_key', ''), _negated=True), fields=('dedupe_key',), name='email_unique_dedupe_key')],
        },
    ),
    migrations.CreateModel(
        name='Notification',
        fields=[
            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
            ('title', models.CharField(max_length=255)),
            ('body', models.TextField(blank=True)),
            ('url', models.CharField(blank=True, max_length=500)),
            ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
            ('read_at', models.DateTimeField(blank=True, null=True)),
            ('account', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to='accounts.account')),
            ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to=settings.AUTH_USER_MODEL)),
        ],
        options={
            'db_table': 'automations_notification',
            'ordering': ['-created_at', '-id'],
            'indexes': [models.Index(fields=['user', 'read_at', 'created_at'], name='automations_user_id_942bc9_idx')],
        },
    ),
    migrations.CreateModel(
        name='WebhookDelivery',
        fields=[
            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
            ('event', models.CharField(max_length=64)),
            ('payload', models.JSONField(default=dict)),
            ('status', models.CharField(choices=[('pending', 'Pending'), ('succeeded', 'Succeeded'), ('failed', 'Failed')], default='pending', max_length=16)),
            ('attempts', models.PositiveSmallIntegerField(default=0)),
            ('response_code', models.PositiveSmallIntegerField(blank=True, null=True)),
            ('error', models.CharField(blank=True, max_length=500)),
            ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
            ('last_attempt_at', models.DateTimeField(blank=True, null=True)),
            ('delivered_at', models.DateTimeField(blank=True, null=True)),
            ('endpoint', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='messaging.webhookendpoint')),
        ],
        options={
            'db_table': 'churnapp_webhookdelivery',
            'verbose_name_plural': 'webhook deliveries',
            'ordering': ['-created_at', '-id'],
            'indexes': [models.Index(fields=['endpoint', 'created_at'], name='churnapp_we_endpoin_424ca6_idx')],
        },
    ),
]


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0007_account_health_scored_at'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        # The tables exist, with every column the models have, once these ran.
        ('automations', '0010_checkpoint'),
        ('churnapp', '0003_service_heartbeat'),
        # Its data migration seeds templates through automations' historical EmailTemplate (the old table).
        ('winback', '0003_email_templates'),
    ]


    operations = [
        migrations.SeparateDatabaseAndState(state_operations=STATE),
        *[migrations.AlterModelTable(name=name, table=None) for name in (
            'EmailTemplate', 'Suppression', 'WebhookEndpoint', 'EmailMessage', 'Notification', 'WebhookDelivery',
        )],
    ]

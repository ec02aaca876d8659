"""The sandbox derives each message's fate instead of storing it.

Pushes gain their delivery settings (expiry, SMS fallback, receiving platform), read here
from the parameters each push kept; message rows lose their stored outcome columns and gain
``revoked_after_s``. Sandbox data is simulated: a message revoked on its own before this
migration (RevokePushMessage) counts as not revoked after it.
"""

from datetime import datetime

from django.db import migrations, models

DEFAULT_EXPIRY_S = 72 * 3600.0
ONLINE_ONLY_WINDOW_S = 5.0
EMAS_PLATFORMS = {"ANDROID": "android", "iOS": "ios", "HARMONY": "harmony"}


def _emas_expiry(params, sent_at):
    if params.get("SmsTemplateName") and params.get("SmsDelaySecs"):
        return float(params["SmsDelaySecs"])
    reminds = ("StoreOffline", "AndroidRemind", "iOSRemind", "HarmonyRemind")
    if params.get("PushType") == "MESSAGE" and not any(
        str(params.get(name, "")).lower() == "true" for name in reminds
    ):
        return ONLINE_ONLY_WINDOW_S
    try:
        expire = datetime.strptime(params.get("ExpireTime", ""), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return DEFAULT_EXPIRY_S
    return max((expire - sent_at).total_seconds(), 0.0)


def delivery_from_params(apps, schema_editor):
    SandboxPush = apps.get_model("campaigns", "SandboxPush")
    changed = []
    for push in SandboxPush.objects.iterator(chunk_size=2000):
        params = push.params or {}
        if push.provider == "mpaas":
            expires = float(params.get("ExpiredSeconds") or DEFAULT_EXPIRY_S)
            strategy = str(params.get("SmsStrategy") or "0")
            push.expires_after_s = expires
            push.sms_delay_s = {"1": expires, "2": 0.0}.get(strategy)
        else:
            sent_at = push.fires_at or push.accepted_at
            push.expires_after_s = _emas_expiry(params, sent_at)
            if params.get("SmsTemplateName"):
                push.sms_delay_s = float(params.get("SmsDelaySecs") or 0)
            push.sms_unless_opened = params.get("SmsSendPolicy") == "1"
            push.device_type = EMAS_PLATFORMS.get(params.get("DeviceType", ""), "")
        changed.append(push)
    SandboxPush.objects.bulk_update(
        changed,
        ["expires_after_s", "sms_delay_s", "sms_unless_opened", "device_type"],
        batch_size=2000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0003_sandbox"),
    ]

    operations = [
        migrations.AddField(
            model_name="sandboxpush",
            name="device_type",
            field=models.CharField(blank=True, default="", max_length=8),
        ),
        migrations.AddField(
            model_name="sandboxpush",
            name="expires_after_s",
            field=models.FloatField(default=259200.0),
        ),
        migrations.AddField(
            model_name="sandboxpush",
            name="sms_delay_s",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="sandboxpush",
            name="sms_unless_opened",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="sandboxmessage",
            name="revoked_after_s",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.RunPython(delivery_from_params, migrations.RunPython.noop, elidable=True),
        migrations.RemoveField(model_name="sandboxmessage", name="arrive_after_s"),
        migrations.RemoveField(model_name="sandboxmessage", name="delete_after_s"),
        migrations.RemoveField(model_name="sandboxmessage", name="open_after_s"),
        migrations.RemoveField(model_name="sandboxmessage", name="platform"),
        migrations.RemoveField(model_name="sandboxmessage", name="sms_after_s"),
        migrations.RemoveField(model_name="sandboxmessage", name="vendor"),
    ]

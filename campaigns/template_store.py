"""A template in its provider's template store: putting the current version there ("sync"),
and taking it out when the template is deleted.

Only mPaaS has a store (CreateTemplate, GetTemplate, ListTemplatePage, DeleteTemplate), and
it has no update: CreateTemplate refuses a name the app already has (TEMPLATE_EXIST). So a
sync replaces the copy:

1. it deletes the copy Pushdeck created last time, by the id the store gave it (an id, not
   the name, so a renamed template still finds its old copy); a copy already deleted in the
   mPaaS console (TEMPLATE_NOT_EXIST) is fine;
2. it creates the template under its current name and keeps the new id.

For the moment between the two calls the store holds no copy, so a template push naming it
then fails; a sync is one click by a person, not part of sending, so the window is a round
trip wide. A template that was never synced whose name the store already has (made in the
mPaaS console, or by another system) is not overwritten: its pushes may be someone else's.
The sync fails with the provider's TEMPLATE_EXIST, and the page says how to resolve it.

EMAS has no template store: Pushdeck fills templates in itself (``campaigns.rendering``)
and sends EMAS pushes as finished text.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from campaigns.audit import Changes
from campaigns.connections import mpaas_app, mpaas_client
from campaigns.models import MessageTemplate, MobileApp
from campaigns.providers.errors import ProviderError
from campaigns.providers.mpaas import TemplateDraft

# The mPaaS template store's result codes (the sandbox answers with the same).
TEMPLATE_NOT_EXIST = "TEMPLATE_NOT_EXIST"
TEMPLATE_EXIST = "TEMPLATE_EXIST"
SYNC_FIELDS = ("remote_id", "sync_state", "synced_version", "synced_at", "sync_message")


def has_store(app: MobileApp) -> bool:
    return app.provider == MobileApp.Provider.MPAAS


def draft(template: MessageTemplate) -> TemplateDraft:
    return TemplateDraft(
        name=template.name,
        title=template.title,
        content=template.body,
        description=f"Pushdeck v{template.version}",
        variables=tuple(template.placeholders),
    )


def sync(template: MessageTemplate) -> Changes:
    """Put ``template`` as it is now into its app's store and record the outcome on it
    (saved); returns what changed, for the audit trail. Provider errors are recorded, not
    raised."""
    if not has_store(template.app):
        raise ValueError(f"{template.app.provider} has no template store")
    before = {name: getattr(template, name) for name in SYNC_FIELDS}
    client, app = mpaas_client(template.app), mpaas_app(template.app)
    try:
        if template.remote_id:
            _delete(template, template.remote_id)
            template.remote_id = ""  # gone from the store, whatever happens next
        remote_id = client.create_template(app, draft(template))
    except ProviderError as error:
        template.sync_state = MessageTemplate.SyncState.FAILED
        template.sync_message = str(error)
    else:
        template.remote_id = remote_id or ""
        template.sync_state = MessageTemplate.SyncState.SYNCED
        template.synced_version = template.version
        template.synced_at = timezone.now()
        template.sync_message = ""
    template.save(update_fields=[*SYNC_FIELDS, "updated_at"])
    after = {name: getattr(template, name) for name in SYNC_FIELDS}
    return {
        name: [before[name], after[name]] for name in SYNC_FIELDS if before[name] != after[name]
    }


def remove(template: MessageTemplate) -> None:
    """Delete the store's copy of ``template``, if Pushdeck made one (raises ProviderError
    when the store refuses; a copy that is already gone is fine)."""
    if has_store(template.app) and template.remote_id:
        _delete(template, template.remote_id)


def _delete(template: MessageTemplate, remote_id: str) -> None:
    try:
        mpaas_client(template.app).delete_template(mpaas_app(template.app), template_id=remote_id)
    except ProviderError as error:
        if error.code != TEMPLATE_NOT_EXIST:
            raise


def failure_advice(template: MessageTemplate) -> str | Promise:
    """What to do about the last failed sync, when Pushdeck knows."""
    if template.sync_state != MessageTemplate.SyncState.FAILED:
        return ""
    if template.sync_message.startswith(TEMPLATE_EXIST):
        return _(
            "The provider's store already has a template of this name that Pushdeck did not "
            "create. Rename this template, or delete the other one in the mPaaS console, "
            "then sync again."
        )
    return ""

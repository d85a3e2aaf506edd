"""The audit trail: database triggers (django-pghistory) record every insert, update and
delete of a tracked model, whatever wrote it (a page, the admin, a bulk update), with the
request's user and URL as context."""

import pghistory


def tracked(model_name: str):
    """Track a model in `<Model>History`, reachable as `obj.history`."""
    return pghistory.track(
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(),
        pghistory.DeleteEvent(),
        model_name=model_name,
        obj_field=pghistory.ObjForeignKey(related_name="history"),
    )

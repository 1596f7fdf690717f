"""Outbound webhooks in the back office (administrators only): endpoints, their deliveries, re-sending."""

import json

from flask import flash, redirect, request, session
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_admin.form import Select2Widget
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from wtforms import SelectMultipleField
from wtforms.validators import InputRequired, StopValidation, ValidationError

from admin.base import ADMIN_ONLY, OneGridModelView
from admin.display import when
from admin.scoping import RowFilter
from app.extensions import db
from app.ids import parse_id
from app.models.webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from app.services import audit
from app.services import webhooks as service

_SHOW_SECRET = "onegrid_webhook_secret_once"  # session key: the endpoint whose new secret is shown once

DELIVERY_STATUS_LABELS = {
    DeliveryStatus.PENDING: _l("Pending"),
    DeliveryStatus.DELIVERED: _l("Delivered"),
    DeliveryStatus.FAILED: _l("Failed"),
    DeliveryStatus.CANCELLED: _l("Cancelled"),
}
LABELS = {
    "url": _l("URL"),
    "event_types": _l("Event types"),
    "disabled_reason": _l("Disabled because"),
    "endpoint": _l("Endpoint"),
    "event_id": _l("Webhook ID"),
    "topic": _l("Event type"),
    "attempts": _l("Attempts"),
    "next_attempt_at": _l("Next attempt"),
    "last_status_code": _l("Last HTTP status"),
    "last_error": _l("Last error"),
    "delivered_at": _l("Delivered"),
    "payload": _l("Message"),
}


def _check_url(form, field):
    try:
        field.data = service.check_url(field.data)
    except service.WebhookError as error:
        raise ValidationError(error.message) from error


def _some_topics(form, field):
    gateway = getattr(form, "gateway", None)
    if gateway is not None and gateway.data:
        return  # the gateway gets notification.created whatever else it subscribes to
    if not field.data:  # a plain str: Flask-Admin shows only str errors under a field
        raise StopValidation(_("Choose at least one event type."))


class WebhookEndpointAdmin(OneGridModelView):
    """Receivers of OneGrid's events: the URL, the topics, on or off; the secret is generated, never typed."""

    view_roles = ADMIN_ONLY
    edit_roles = ADMIN_ONLY
    can_export = False
    details_template = "admin/webhook_endpoint_details.html"
    column_labels = {**OneGridModelView.column_labels, **LABELS}
    column_list = ("url", "description", "event_types", "gateway", "active", "disabled_reason", "created_at")
    column_details_list = (
        "id",
        "url",
        "description",
        "event_types",
        "gateway",
        "active",
        "disabled_reason",
        "created_at",
    )
    column_searchable_list = ("url", "description")
    column_sortable_list = ("url", "active", "created_at")
    column_formatters = {
        "event_types": lambda v, c, m, n: ", ".join(m.event_types or ()),
        "created_at": lambda v, c, m, n: when(m.created_at),
    }
    form_columns = ("url", "description", "event_types", "gateway", "active")
    form_overrides = {"event_types": SelectMultipleField}

    def __init__(self, *args, **kwargs):
        self.form_args = {
            "url": {
                "validators": [InputRequired(), _check_url],
                "description": _l("Where OneGrid POSTs the signed events (http:// or https://)."),
            },
            "gateway": {
                "description": _l(
                    "The district's SMS/WeChat messaging platform: it alone receives notification.created, "
                    "with the recipient's phone, for every notification."
                ),
            },
            "event_types": {
                "choices": service.topic_choices(),
                "widget": Select2Widget(multiple=True),
                "validators": [_some_topics],
            },
        }
        super().__init__(*args, **kwargs)

    def _with_current_topics(self, form, obj):
        # topics stored earlier stay choosable even if no longer offered (e.g. registered by later code)
        stored = [
            (t, t)
            for t in (getattr(obj, "event_types", None) or [])
            if t not in dict(service.topic_choices())
        ]
        form.event_types.choices = service.topic_choices() + stored
        return form

    def create_form(self, obj=None):
        return self._with_current_topics(super().create_form(obj), obj)

    def edit_form(self, obj=None):
        return self._with_current_topics(super().edit_form(obj), obj)

    def on_model_change(self, form, model, is_created):
        if is_created:
            model.secret = service.new_secret()
        if model.active:
            model.disabled_reason = None
        if is_created:
            audit.record_created(current_user, model)  # the secret is never in a snapshot
        else:
            audit.record_updated(current_user, model, *audit.changes(model))

    def after_model_change(self, form, model, is_created):
        if is_created:
            session[_SHOW_SECRET] = model.id

    def on_model_delete(self, model):
        audit.record_deleted(current_user, model)

    def get_save_return_url(self, model, is_created=False):
        if is_created:  # the details page shows the new secret, once
            return self.get_url(".details_view", id=model.id)
        return super().get_save_return_url(model, is_created)

    @expose("/rotate/", methods=("POST",))
    def rotate_view(self):
        """Give the endpoint a new secret, shown once on its details page."""
        endpoint = self.get_one(request.form.get("id", ""))
        service.rotate_secret(endpoint, current_user)
        db.session.commit()
        session[_SHOW_SECRET] = endpoint.id
        flash(_("A new secret was generated: give it to the receiver now."), "success")
        return redirect(self.get_url(".details_view", id=endpoint.id))

    def details_extras(self, model):
        show = session.get(_SHOW_SECRET) == model.id
        if show:
            session.pop(_SHOW_SECRET)
        counts = dict(
            db.session.execute(
                select(WebhookDelivery.status, db.func.count())
                .where(WebhookDelivery.endpoint_id == model.id)
                .group_by(WebhookDelivery.status)
            ).all()
        )
        return {
            "secret": model.secret if show else service.mask_secret(model.secret),
            "secret_shown": show,
            "delivery_counts": [
                (str(label), counts.get(status.value, 0)) for status, label in DELIVERY_STATUS_LABELS.items()
            ],
        }


def _when_column(column: str):
    """A list formatter showing `column`'s moment in the user's time."""
    return lambda view, context, model, name: when(getattr(model, column))


def _payload(view, context, model, name):
    return Markup("<pre class='mb-0 og-webhook-payload'>%s</pre>") % json.dumps(
        model.payload, ensure_ascii=False, indent=2
    )


class WebhookDeliveryAdmin(OneGridModelView):
    """Every event sent to an endpoint, newest first, with each attempt; a delivery can be sent again."""

    view_roles = ADMIN_ONLY
    edit_roles = ADMIN_ONLY
    can_create = False
    can_edit = False
    can_delete = False
    can_export = False
    details_template = "admin/webhook_delivery_details.html"
    column_labels = {**OneGridModelView.column_labels, **LABELS}
    column_list = (
        "created_at",
        "topic",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "event_id",
    )
    column_details_list = (
        "id",
        "event_id",
        "topic",
        "endpoint",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "created_at",
        "delivered_at",
        "payload",
    )
    column_sortable_list = ("created_at", "topic", "status", "attempts", "next_attempt_at")
    column_default_sort = ("id", True)
    column_searchable_list = ("event_id",)
    column_formatters = {
        "status": lambda v, c, m, n: str(DELIVERY_STATUS_LABELS.get(m.status, m.status)),
        "endpoint": lambda v, c, m, n: str(m.endpoint),
        "payload": _payload,
        **{c: _when_column(c) for c in ("created_at", "next_attempt_at", "delivered_at")},
    }

    def __init__(self, *args, **kwargs):
        self.column_filters = [
            FilterEqual(
                WebhookDelivery.status,
                _l("Status"),
                options=[(s.value, label) for s, label in DELIVERY_STATUS_LABELS.items()],
            ),
            FilterEqual(WebhookDelivery.topic, _l("Event type"), options=[(t, t) for t in service.TOPICS]),
            RowFilter(
                WebhookDelivery.endpoint_id,
                _l("Endpoint"),
                select(WebhookEndpoint).order_by(WebhookEndpoint.id),
            ),
        ]
        super().__init__(*args, **kwargs)

    def _resend(self, delivery: WebhookDelivery) -> None:
        """Queue the delivery again (the service audits it) and commit; WebhookError propagates uncommitted."""
        service.resend(delivery, current_user)
        db.session.commit()

    @action("resend", _l("Re-send"), _l("Send the selected deliveries again?"))
    def action_resend(self, ids):
        done, failed = 0, []
        for raw in ids:
            delivery = self.find_visible(parse_id(raw))
            if delivery is None:
                failed.append(_("#%(id)s: not found.", id=raw))
                continue
            try:
                self._resend(delivery)
            except service.WebhookError as error:
                db.session.rollback()
                failed.append(f"#{raw}: {error.message}")
                continue
            done += 1
        if done:
            flash(
                ngettext("%(num)d delivery queued again.", "%(num)d deliveries queued again.", done),
                "success",
            )
        if failed:
            flash(_("Not re-sent: %(reasons)s", reasons=" ".join(failed)), "error")

    @expose("/resend/", methods=("POST",))
    def resend_view(self):
        delivery = self.get_one(request.form.get("id", ""))
        try:
            self._resend(delivery)
        except service.WebhookError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            flash(_("The delivery was queued again."), "success")
        return redirect(self.get_url(".details_view", id=delivery.id))

    def details_extras(self, model):
        attempts = [
            {
                "number": a.number,
                "at": when(a.at),
                "status_code": a.status_code or "",
                "error": a.error
                or ("" if a.duration_ms is not None else _("no answer recorded (interrupted)")),
                "duration_ms": a.duration_ms if a.duration_ms is not None else "",
                "excerpt": a.response_excerpt or "",
            }
            for a in reversed(model.attempt_log)
        ]
        return {"attempt_rows": attempts, "endpoint_active": model.endpoint.active}

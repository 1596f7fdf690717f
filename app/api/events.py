"""Events over the API: the list, reporting (with the hotline's Idempotency-Key), one event, its transitions.

Their shapes (the event, the filters, the request bodies) are in app.api.event_schemas.
"""

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.api import api_blueprint
from app.api.attachments import present_all
from app.api.auth import current_api_user, token_required
from app.api.common import (
    action_body,
    commit_or_abort,
    load_visible_or_404,
    masked_user,
    register_actions,
    step_body,
)
from app.api.event_schemas import (
    AnswerRequestSchema,
    ArchiveRequestSchema,
    CallbackRequestSchema,
    DispatchRequestSchema,
    EscalateRequestSchema,
    EventQuerySchema,
    EventRequestSchema,
    EventSchema,
    FeedbackRequestSchema,
    ResolveRequestSchema,
    StartRequestSchema,
    VerifyRequestSchema,
)
from app.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from app.api.idempotency import idempotent
from app.api.pagination import page_schema, paginate
from app.models import Matter
from app.models.base import under_area
from app.models.choices import STAFF_ROLES, EventAction, EventStatus, Role
from app.models.events import Dispatch, Event, EventStep
from app.services import attachments, resident_say, workflow
from app.services import events as service
from app.services.event_sla import is_overdue, next_deadline
from app.services.preconditions import expect_status

bp = api_blueprint(
    "events", __name__, "Events (一网统管): report, accept, escalate, dispatch, resolve, verify, archive."
)


# --- reading -------------------------------------------------------------------------------------
LIST_OPTIONS = (joinedload(Event.matter), selectinload(Event.reporter))
DETAIL_OPTIONS = (
    *LIST_OPTIONS,
    selectinload(Event.steps).selectinload(EventStep.actor),
    selectinload(Event.steps).selectinload(EventStep.department),
    selectinload(Event.dispatches).selectinload(Dispatch.department),
)


def present(event: Event, user, detail: bool = False) -> dict:
    """The API shape of `event` for `user`, with its dispatches and history on request."""
    body = {
        "id": event.id,
        "title": event.title,
        "description": event.description,
        "matter": event.matter.code,
        "matter_name": event.matter.name,
        "grid_code": event.grid_code,
        "location_text": event.location_text,
        "source": event.source,
        "reporter": masked_user(event.reporter) or "",
        "acting_for": event.acting_for if user.role in STAFF_ROLES else None,
        "level": event.level,
        "status": event.status,
        "major": event.major,
        "external_ref": event.external_ref,
        "campaign_id": event.campaign_id,
        "score": event.score,
        "created_at": event.created_at,
        "accepted_at": event.accepted_at,
        "resolved_at": event.resolved_at,
        "verified_at": event.verified_at,
        "closed_at": event.closed_at,
        "archived_at": event.archived_at,
        "deadlines": {"respond": event.respond_by, "reply": event.reply_by, "resolve": event.resolve_by},
        "next_deadline": next_deadline(event),
        "overdue": is_overdue(event),
        "actions": service.interface_actions(user, event),
    }
    if detail:
        answers = {}
        for step in event.steps:
            if step.action == EventAction.ANSWER and step.department_id is not None:
                answers.setdefault(step.department_id, []).append({"note": step.note, "at": step.at})
        body["dispatches"] = [
            {
                "department": d.department.code,
                "department_name": d.department.name,
                "status": d.status,
                "dispatched_at": d.dispatched_at,
                "answered_at": d.answered_at,
                "done_at": d.done_at,
                "answers": answers.get(d.department_id, []),
            }
            for d in event.dispatches
        ]
        photos = attachments.of_steps(user, event.steps)
        body["history"] = [
            {
                **step_body(step),
                "from_level": step.from_level,
                "to_level": step.to_level,
                "department": step.department.code if step.department is not None else None,
                "attachments": present_all(photos.get(step.id, [])),
            }
            for step in event.steps
        ]
        body["feedback_due"] = resident_say.feedback_due(user, event)
        if user.role in STAFF_ROLES or resident_say.is_reporter(user, event):
            body["feedback"] = [
                {"fixed": f.fixed, "rating": f.rating, "comment": f.comment, "at": f.at}
                for f in resident_say.feedback_of(event)
            ]
        body["attachments"] = present_all(attachments.listed(attachments.Subject.of_event(event)))
    return body


def _load_visible(user, event_id: int, options=LIST_OPTIONS) -> Event:
    return load_visible_or_404(Event, event_id, service.visible_condition(user), options)


@bp.route("/events")
@token_required()
@bp.arguments(EventQuerySchema, location="query")
@bp.response(200, page_schema(EventSchema))
def list_events(query):
    """Events visible to the caller, newest first: staff their scope, departments their dispatches, others their own."""
    user = current_api_user()
    events = (
        select(Event)
        .where(service.visible_condition(user))
        .options(*LIST_OPTIONS)
        .order_by(Event.created_at.desc(), Event.id.desc())
    )
    for name in ("status", "level", "source"):
        if name in query:
            events = events.where(getattr(Event, name) == query[name])
    if "area" in query:
        events = events.where(under_area(Event.grid_code, query["area"]))
    if "matter" in query:
        events = events.where(Event.matter_id.in_(select(Matter.id).where(Matter.code == query["matter"])))
    page = paginate(events, query)
    page["items"] = [present(event, user) for event in page["items"]]
    return page


@bp.route("/events", methods=["POST"])
@token_required()
@bp.arguments(EventRequestSchema)
@idempotent(bp, own_key=lambda user: user.role == Role.INTEGRATION)  # the hotline's key is its ticket id
@bp.response(201, EventSchema)
@bp.alt_response(
    200, schema=EventSchema, description="The same Idempotency-Key again: the first event, unchanged."
)
@bp.alt_response(409, response="CONFLICT")
@bp.alt_response(
    429,
    response="TOO_MANY_REQUESTS",
    description="A resident or member reported too often; `Retry-After` says when to try again.",
)
def report_event(values, idempotency_key=None):
    """Report an event at grid level; the 12345 hotline sends its ticket id as the Idempotency-Key.

    For the hotline (integration users) the key is the ticket id: the same ticket again answers 200 with the
    first event. For everyone else it is an ordinary Idempotency-Key.
    """
    user = current_api_user()

    def report():
        try:
            return service.report_event(
                user,
                title=values["title"],
                description=values.get("description"),
                matter_code=values["matter"],
                grid_code=values.get("grid_code"),
                location_text=values.get("location_text"),
                source=values.get("source"),
                acting_for=values.get("acting_for"),
                external_ref=idempotency_key,
                campaign_id=values.get("campaign_id"),
            )
        except service.EventInvalid as error:  # the ticket id arrived as a header: name it so
            if "external_ref" in error.errors:
                error.errors[IDEMPOTENCY_HEADER] = error.errors.pop("external_ref")
            raise

    event, created = commit_or_abort(report)
    return present(_load_visible(user, event.id, DETAIL_OPTIONS), user, detail=True), 201 if created else 200


@bp.route("/events/<int:event_id>")
@token_required()
@bp.response(200, EventSchema)
@bp.alt_response(404, response="NOT_FOUND")
def get_event(event_id):
    """One event with its deadlines, dispatches and history; 404 when the caller may not see it."""
    user = current_api_user()
    return present(_load_visible(user, event_id, DETAIL_OPTIONS), user, detail=True)


# --- the transitions: one endpoint per action, all through services.events.perform ---------------
ACTION_ENDPOINTS = {
    "accept": (None, "The handler at the event's level takes it on (meets the respond deadline)."),
    "start": (
        StartRequestSchema,
        "The handler starts work on an accepted event (a first word to the reporter).",
    ),
    "escalate": (
        EscalateRequestSchema,
        "The handler hands the event one level up, or to the district when major.",
    ),
    "dispatch": (DispatchRequestSchema, "Street staff call one or more departments in (吹哨)."),
    "answer": (
        AnswerRequestSchema,
        "A department answers its dispatch (报到), saying whether its part is done.",
    ),
    "resolve": (ResolveRequestSchema, "The handler reports the event solved, once every department is done."),
    "verify": (
        VerifyRequestSchema,
        "The grid worker checks on the spot: passed, or failed and back to work.",
    ),
    "callback": (
        CallbackRequestSchema,
        "The callback (回访): satisfied closes the event, unsatisfied reopens it.",
    ),
    "archive": (ArchiveRequestSchema, "The community scores the closed event 1–5 and archives it."),
    "withdraw": (StartRequestSchema, "The reporter takes back a report nobody has accepted yet (409 after)."),
}


def _act(action: str, event_id: int, values: dict) -> dict:
    user = current_api_user()
    event = _load_visible(user, event_id)
    commit_or_abort(lambda: service.perform(user, event, action, **values))
    return present(_load_visible(user, event_id, DETAIL_OPTIONS), user, detail=True)


@bp.route("/events/<int:event_id>/feedback", methods=["POST"])
@token_required()
@bp.arguments(
    action_body(FeedbackRequestSchema, "FeedbackEventRequestSchema", [s.value for s in EventStatus])
)
@idempotent(bp)
@bp.response(200, EventSchema)
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT")
def event_feedback(values, event_id):
    """The reporter's say on a resolved report: fixed or not, 好/中/差, a comment. Not fixed sends it back to
    work at the level that resolved it; a second answer to the same resolution is a 409."""
    user = current_api_user()
    event = _load_visible(user, event_id)

    def give():
        expect_status(event, values.get("expected_status"))
        return resident_say.give_feedback(
            user, event, values["fixed"], values["rating"], values.get("comment")
        )

    commit_or_abort(give)
    return present(_load_visible(user, event_id, DETAIL_OPTIONS), user, detail=True)


# every verb the machine may list in `actions` has its endpoint: a missing one fails here, not as a 404
if missing := workflow.unrouted(service.MACHINE, ACTION_ENDPOINTS):
    raise RuntimeError(f"event actions listed but not routed: {sorted(missing)}")
# every event action may meet a value the state machine refuses (422), a body or not
register_actions(
    bp, "events", "event", EventSchema, ACTION_ENDPOINTS, _act, responses=((422, "UNPROCESSABLE_ENTITY"),)
)

"""Micro-wishes over the API: categories, the list, posting, one wish with its history, its transitions."""

import marshmallow as ma
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.api import api_blueprint
from app.api.attachments import AttachmentSchema, present_all
from app.api.auth import current_api_user, token_required
from app.api.common import (
    AREA_CODE,
    CHOOSE_ONE,
    CurrentDeadlineSchema,
    DeadlinesSchema,
    Text,
    UtcDateTime,
    commit_or_abort,
    current_deadline_json,
    register_actions,
    step_body,
)
from app.api.errors import api_abort
from app.api.idempotency import idempotent
from app.api.pagination import PageQuerySchema, page_schema, paginate
from app.api.wish_actions import (
    CompleteRequestSchema,
    ConfirmRequestSchema,
    NoteRequestSchema,
    ReasonRequestSchema,
    ReleaseRequestSchema,
    ResubmitRequestSchema,
)
from app.api.wish_answer import answered, reading_with_step
from app.extensions import db
from app.ids import MAX_ID
from app.models import Wish, WishCategory, WishStep
from app.models.base import under_area
from app.models.choices import STAFF_ROLES, Rating, WishAction, WishStatus
from app.models.wishes import DESCRIPTION_MAX, TITLE_MAX
from app.security import forbid_storing
from app.services import attachments, contact, workflow
from app.services import wishes as service
from app.services.masking import mask_name

bp = api_blueprint("wishes", __name__, "Micro-wishes: post, publish, claim, complete, confirm.")


# --- shapes --------------------------------------------------------------------------------------
class CategorySchema(ma.Schema):
    """A kind of micro-wish."""

    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class StepSchema(ma.Schema):
    """One transition of the wish."""

    action = ma.fields.String(required=True, metadata={"enum": [a.value for a in WishAction]})
    actor = ma.fields.String(allow_none=True, metadata={"description": "masked name; null for the system"})
    from_status = ma.fields.String(data_key="from", allow_none=True)
    to_status = ma.fields.String(data_key="to", required=True)
    at = UtcDateTime(required=True)
    note = ma.fields.String(
        allow_none=True, metadata={"description": "only for the people involved and staff"}
    )
    attachments = ma.fields.List(
        ma.fields.Nested(AttachmentSchema), metadata={"description": "the step's photos the caller may see"}
    )


class ContactSchema(ma.Schema):
    """Someone the caller may reach about the wish; `phone` null when not shown (none, or display turned off)."""

    role = ma.fields.String(required=True, metadata={"enum": ["owner", "grid_worker", "claimer"]})
    name = ma.fields.String(required=True)
    phone = ma.fields.String(allow_none=True)
    unit = ma.fields.String(allow_none=True)


class WishSchema(ma.Schema):
    """A micro-wish; `history` only on the detail endpoint."""

    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    description = ma.fields.String(allow_none=True)
    category = ma.fields.String(required=True, metadata={"description": "category code"})
    category_name = ma.fields.String(required=True)
    grid_code = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": [s.value for s in WishStatus]})
    owner = ma.fields.String(required=True, metadata={"description": "the resident helped, masked (张*)"})
    assisted = ma.fields.Boolean(
        required=True, metadata={"description": "posted by staff on the resident's behalf"}
    )
    claimed_by = ma.fields.String(allow_none=True, metadata={"description": "the member, masked"})
    hours = ma.fields.Float(allow_none=True)
    rating = ma.fields.String(allow_none=True, metadata={"enum": [r.value for r in Rating]})
    comment = ma.fields.String(allow_none=True)
    created_at = UtcDateTime(required=True)
    published_at = UtcDateTime(allow_none=True)
    claimed_at = UtcDateTime(allow_none=True)
    done_at = UtcDateTime(allow_none=True)
    confirmed_at = UtcDateTime(allow_none=True)
    deadlines = ma.fields.Nested(DeadlinesSchema, required=True)
    deadline = ma.fields.Nested(
        CurrentDeadlineSchema,
        allow_none=True,
        required=True,
        metadata={"description": "the one deadline that matters now; null once rejected, done or cancelled"},
    )
    overdue = ma.fields.Boolean(
        required=True, metadata={"description": "past the deadline of its present status"}
    )
    actions = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={"description": "what the caller may do now: POST /wishes/{id}/<action>"},
    )
    history = ma.fields.List(ma.fields.Nested(StepSchema))
    attachments = ma.fields.List(ma.fields.Nested(AttachmentSchema), metadata={"description": "detail only"})
    contacts = ma.fields.List(
        ma.fields.Nested(ContactSchema),
        metadata={
            "description": "GET /wishes/{id} only: whom the caller may reach now — the claimer: the owner and the grid "
            "worker; the owner: the claimer — while the wish is claimed or done"
        },
    )


class WishQuerySchema(PageQuerySchema):
    """Filters of the wish list."""

    status = Text(validate=ma.validate.OneOf([s.value for s in WishStatus], error=CHOOSE_ONE))
    area = Text(validate=AREA_CODE, metadata={"description": "a street, community or grid code"})
    category = Text(validate=ma.validate.Length(max=20), metadata={"description": "category code"})
    mine = ma.fields.Boolean(metadata={"description": "true: only wishes I own, posted or claimed"})


class WishRequestSchema(ma.Schema):
    """A new wish; staff post one for a resident (resident_id) and may publish it at once."""

    title = Text(required=True, validate=ma.validate.Length(min=1, max=TITLE_MAX))
    description = Text(allow_none=True, validate=ma.validate.Length(max=DESCRIPTION_MAX))
    category = Text(
        required=True,
        validate=ma.validate.Length(min=1, max=20),
        metadata={"description": "category code, see GET /categories"},
    )
    grid_code = Text(
        allow_none=True, validate=AREA_CODE, metadata={"description": "default: the resident's home grid"}
    )
    resident_id = ma.fields.Integer(
        allow_none=True,
        validate=ma.validate.Range(min=1, max=MAX_ID),
        metadata={"description": "staff only: the resident helped"},
    )
    publish = ma.fields.Boolean(load_default=False, metadata={"description": "staff only: publish at once"})


# --- reading -------------------------------------------------------------------------------------
LIST_OPTIONS = (joinedload(Wish.category), *map(selectinload, (Wish.owner, Wish.resident, Wish.claimed_by)))
# the detail reads the photos of the wish and of its steps in one query
DETAIL_OPTIONS = (
    *LIST_OPTIONS,
    selectinload(Wish.steps).selectinload(WishStep.actor),
    selectinload(Wish.attachments),
)


def present(wish: Wish, user, member, history: bool = False, contacts: bool = False) -> dict:
    """The API shape of `wish` for `user` (whose member profile is `member`), with its history on request."""
    body = {
        "id": wish.id,
        "title": wish.title,
        "description": wish.description,
        "category": wish.category.code,
        "category_name": wish.category.name,
        "grid_code": wish.grid_code,
        "status": wish.status,
        "owner": mask_name(wish.owner_name),
        "assisted": wish.assisted,
        "claimed_by": mask_name(wish.claimed_by.name) if wish.claimed_by is not None else None,
        "hours": wish.hours,
        "rating": wish.rating,
        "comment": wish.comment,
        "created_at": wish.created_at,
        "published_at": wish.published_at,
        "claimed_at": wish.claimed_at,
        "done_at": wish.done_at,
        "confirmed_at": wish.confirmed_at,
        "deadlines": {"respond": wish.respond_by, "reply": wish.reply_by, "resolve": wish.resolve_by},
        "overdue": service.is_overdue(wish),
        "deadline": current_deadline_json(service.deadline_now(wish)),
        # the member is looked up once per request, not once per wish and action
        "actions": [str(a) for a in service.available_actions(user, wish, member)],
    }
    if history:
        notes = service.can_see_notes(user, wish)
        own, photos = attachments.of_wish(user, wish)
        body["history"] = [
            {**step_body(step, notes), "attachments": present_all(photos.get(step.id, []))}
            for step in wish.steps
        ]
        body["attachments"] = present_all(own)
    if contacts:  # GET of one wish: the claimer and the owner reach each other; each phone shown is audited
        body["contacts"] = [
            {"role": c.role, "name": c.name, "phone": c.phone, "unit": c.unit}
            for c in contact.wish_contacts(user, wish)
        ]
    return body


def _load_visible(user, wish_id: int, options=LIST_OPTIONS) -> Wish:
    wish = service.get_visible_wish(user, wish_id, options)
    return wish if wish is not None else api_abort(404, "not_found", _("Not found."))


@bp.route("/categories")
@token_required()
@bp.arguments(PageQuerySchema, location="query")
@bp.response(200, page_schema(CategorySchema))
def list_categories(query):
    """The wish categories residents may choose, in display order."""
    return paginate(service.active_categories(), query)


@bp.route("/wishes")
@token_required()
@bp.arguments(WishQuerySchema, location="query")
@bp.response(200, page_schema(WishSchema))
def list_wishes(query):
    """Wishes visible to the caller, newest first: the board, their own, and all in a staff scope."""
    user = current_api_user()
    member = service.member_for(user)
    wishes = (
        select(Wish)
        .where(service.visible_condition(user))
        .options(*LIST_OPTIONS)
        .order_by(Wish.created_at.desc(), Wish.id.desc())
    )
    if "status" in query:
        wishes = wishes.where(Wish.status == query["status"])
    if "area" in query:
        wishes = wishes.where(under_area(Wish.grid_code, query["area"]))
    if "category" in query:
        wishes = wishes.where(
            Wish.category_id.in_(select(WishCategory.id).where(WishCategory.code == query["category"]))
        )
    if query.get("mine"):
        mine = [Wish.owner_id == user.id, Wish.posted_by_id == user.id]
        if member is not None:
            mine.append(Wish.claimed_by_id == member.id)
        wishes = wishes.where(or_(*mine))
    page = paginate(wishes, query)
    page["items"] = [present(wish, user, member) for wish in page["items"]]
    return page


@bp.route("/wishes", methods=["POST"])
@token_required()
@bp.arguments(WishRequestSchema)
@idempotent(bp)
@bp.response(201, WishSchema)
@bp.alt_response(403, response="FORBIDDEN")
def post_wish(values):
    """Post a wish: a resident for themself, grid staff for a resident in their area (帮办代办)."""
    user = current_api_user()
    if user.role not in STAFF_ROLES and values.get("resident_id") is not None:
        api_abort(
            422,
            "validation_error",
            _("Only grid staff post on a resident's behalf."),
            errors={"resident_id": [_("Only grid staff post on a resident's behalf.")]},
        )
    wish = commit_or_abort(
        lambda: service.post_wish(
            user,
            title=values["title"],
            description=values.get("description"),
            category_code=values["category"],
            grid_code=values.get("grid_code"),
            resident_id=values.get("resident_id"),
            publish=values["publish"],
        )
    )
    return present(_load_visible(user, wish.id, DETAIL_OPTIONS), user, service.member_for(user), history=True)


@bp.route("/wishes/<int:wish_id>")
@token_required()
@bp.response(200, WishSchema)
@bp.alt_response(404, response="NOT_FOUND")
def get_wish(wish_id):
    """One wish with its history; 404 when the caller may not see it."""
    user = current_api_user()
    wish = _load_visible(user, wish_id, DETAIL_OPTIONS)
    body = present(wish, user, service.member_for(user), history=True, contacts=True)
    if any(c["phone"] for c in body["contacts"]):
        db.session.commit()  # the reveals' audit rows
        forbid_storing()
    return body


# --- the transitions: one endpoint per action, all through services.wishes.perform -----------------
ACTION_ENDPOINTS = {
    WishAction.PUBLISH: (None, "Grid staff put a submitted wish on the public board."),
    WishAction.REJECT: (ReasonRequestSchema, "Grid staff turn a submitted wish down, saying why."),
    WishAction.CANCEL: (NoteRequestSchema, "The owner withdraws a wish nobody has claimed."),
    WishAction.CLAIM: (None, "A checked-in member takes a published wish on; 409 when someone was quicker."),
    WishAction.RELEASE: (
        ReleaseRequestSchema,
        "The claiming member asks to be released, saying why: the wish goes back to the board.",
    ),
    WishAction.COMPLETE: (
        CompleteRequestSchema,
        "The claiming member reports the wish done, with the hours.",
    ),
    WishAction.CONFIRM: (
        ConfirmRequestSchema,
        "The owner confirms the help and rates it; the member's hours grow.",
    ),
    WishAction.DISPUTE: (
        ReasonRequestSchema,
        "The owner says the work is not done: back to the member, claimed.",
    ),
    WishAction.RESUBMIT: (
        ResubmitRequestSchema,
        "The owner edits a rejected wish and sends it to review again.",
    ),
}


def _act(action: WishAction, wish_id: int, values: dict) -> dict:
    user = current_api_user()
    # the wish alone: its columns are all the rules and a refusal need, so the many who lose a race for a wish
    # are refused on one row of one table (bench/README.md, the claim race)
    wish = _load_visible(user, wish_id, ())

    def change() -> dict:
        # the answer: the wish as this step leaves it, read with the step (app/api/wish_answer.py), so nothing is
        # read again after the commit
        with reading_with_step(wish) as along:
            service.perform(user, wish, action, **values)
        return present(answered(wish, along), user, service.member_for(user), history=True)

    return commit_or_abort(change, answered=True)


# every verb the machine may list in `actions` has its endpoint: a missing one fails here, not as a 404
if missing := workflow.unrouted(service.MACHINE, ACTION_ENDPOINTS):
    raise RuntimeError(f"wish actions listed but not routed: {sorted(missing)}")
register_actions(bp, "wishes", "wish", WishSchema, ACTION_ENDPOINTS, _act)

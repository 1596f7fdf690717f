"""双签字 over the API: what work logs and work records share (app/services/signatures.py).

The signature rows and the sign request, and `SignedEntries`, which routes the endpoints of one kind of signed
entry: its list (status and area filters), its create, its read, and its workflow actions (sign, edit).
"""

import marshmallow as ma
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.api.auth import current_api_user, token_required
from app.api.common import CHOOSE_ONE, Text, UtcDateTime, commit_or_abort, load_visible_or_404, route_actions
from app.api.idempotency import idempotent
from app.api.pagination import page_schema, paginate
from app.models.base import under_area
from app.models.worklogs import SignPlace
from app.services import signatures


class SignatureSchema(ma.Schema):
    """One of the two signatures: the place, who signed and when (null while missing)."""

    place = ma.fields.String(required=True, metadata={"enum": [p.value for p in SignPlace]})
    signer = ma.fields.String(allow_none=True, metadata={"description": "the signer's name"})
    signed_at = UtcDateTime(allow_none=True)


class SignRequestSchema(ma.Schema):
    """Which place the caller signs in (only needed by someone holding both)."""

    place = Text(
        allow_none=True,
        validate=ma.validate.OneOf([p.value for p in SignPlace], error=CHOOSE_ONE),
        metadata={"description": "default: the caller's place whose signature is missing"},
    )


def signature_rows(entry) -> list[dict]:
    return [
        {
            "place": row["place"],
            "signer": (row["signer"].name or row["signer"].username) if row["signer"] is not None else None,
            "signed_at": row["signed_at"],
        }
        for row in signatures.signatures(entry)
    ]


class SignedEntries:
    """The endpoints of one kind of signed entry at `/<collection>` and `/<collection>/<<noun>_id>`.

    `service` is its service module (`MACHINE`, `visible_condition(user)`, `actions(user, entry)`); `fields`
    gives an entry's own fields of `schema`, to which its status, signatures and actions are added; `loaded`,
    the relationships those fields read (the signers' are loaded anyway).
    """

    def __init__(self, bp, collection: str, noun: str, model, service, schema, fields, loaded=()):
        self.bp, self.collection, self.noun = bp, collection, noun
        self.model, self.service, self.schema, self.fields = model, service, schema, fields
        self.options = (
            *(selectinload(relation) for relation in loaded),
            selectinload(model.captain_signer),
            selectinload(model.leader_signer),
        )

    def present(self, entry, user) -> dict:
        return {
            **self.fields(entry),
            "status": entry.status,
            "signatures": signature_rows(entry),
            "signed_at": entry.signed_at,
            "actions": self.service.actions(user, entry),
        }

    def load(self, user, entry_id):
        """The entry when `user` may read it; else a JSON 404."""
        return load_visible_or_404(self.model, entry_id, self.service.visible_condition(user), self.options)

    def answer(self, entry_id) -> dict:
        """The entry as the caller sees it now."""
        user = current_api_user()
        return self.present(self.load(user, entry_id), user)

    def _route(self, view, name: str, summary: str, rule: str, decorators, methods=("GET",)) -> None:
        """Route `view` as a hand-written endpoint `name` carrying `decorators` (outermost first) would be."""
        view.__name__ = view.__qualname__ = name
        view.__doc__ = summary
        for decorator in reversed((token_required(), *decorators)):
            view = decorator(view)
        self.bp.route(rule, methods=list(methods), endpoint=name)(view)

    def route_list(self, name: str, summary: str, query_schema, order, where=None) -> None:
        """GET /<collection>: the entries the caller may read, filtered by `status` and `area`, and by the
        conditions `where(query)` gives; in `order`."""

        def view(query):
            user = current_api_user()
            entries = (
                select(self.model)
                .where(self.service.visible_condition(user))
                .options(*self.options)
                .order_by(*order)
            )
            if "status" in query:
                entries = entries.where(self.model.status == query["status"])
            if "area" in query:
                entries = entries.where(under_area(self.model.grid_code, query["area"]))
            if where is not None:
                entries = entries.where(*where(query))
            page = paginate(entries, query)
            page["items"] = [self.present(entry, user) for entry in page["items"]]
            return page

        decorators = (
            self.bp.arguments(query_schema, location="query"),
            self.bp.response(200, page_schema(self.schema)),
        )
        self._route(view, name, summary, f"/{self.collection}", decorators)

    def route_create(self, name: str, summary: str, body_schema, create) -> None:
        """POST /<collection>: `create(user, values)` makes the entry (honouring an Idempotency-Key); 201."""

        def view(values):
            user = current_api_user()
            entry = commit_or_abort(lambda: create(user, values))
            return self.answer(entry.id)

        decorators = (
            self.bp.arguments(body_schema),
            idempotent(self.bp),
            self.bp.response(201, self.schema),
            self.bp.alt_response(403, response="FORBIDDEN"),
        )
        self._route(view, name, summary, f"/{self.collection}", decorators, methods=("POST",))

    def route_get(self, name: str, summary: str) -> None:
        """GET /<collection>/<id>: one entry; 404 when the caller may not read it."""

        def view(**kwargs):
            return self.answer(kwargs[f"{self.noun}_id"])

        decorators = (self.bp.response(200, self.schema), self.bp.alt_response(404, response="NOT_FOUND"))
        self._route(view, name, summary, f"/{self.collection}/<int:{self.noun}_id>", decorators)

    def route_actions(self, actions: dict) -> None:
        """POST /<collection>/<id>/<action> for every action of the signing machine ({action: (body, summary)})."""
        route_actions(
            self.bp,
            self.service.MACHINE,
            self.collection,
            self.noun,
            self.schema,
            actions,
            self.load,
            self.present,
        )

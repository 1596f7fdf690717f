"""The one workflow engine: a machine is data (its transitions and who may take them); this runs any of them.

A step is one conditional `UPDATE … WHERE id = :id AND status IN (:sources)` (plus the columns the
machine pins, e.g. an event's level) and one history row, so when many people act on one subject
at once exactly one wins and the others get a `Conflict`. Refusals are `app.services.errors`.
Functions flush and never commit: the caller owns the transaction.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from flask_babel import gettext as _
from sqlalchemy import DateTime, String, bindparam, inspect, literal, null, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import ClauseElement

from app import connections
from app.extensions import db
from app.models.base import one_of, utcnow
from app.services import audit, workflow_history
from app.services.errors import Conflict, DomainError, Forbidden
from app.services.preconditions import expect_status


@dataclass(frozen=True)
class Requirement:
    """A condition a transition needs besides its source status; refused as a Conflict with `code`."""

    test: Callable[[object], bool]
    message: Callable[[], str]
    code: str
    condition: Callable[[], object] | None = None  # the same test in SQL, for set-based moves (`move_all`)


@dataclass(frozen=True)
class Transition:
    """One row of a machine: the action, the states it leaves, the state it reaches (None: stays), who acts."""

    action: str
    sources: tuple[str, ...]
    target: str | None
    actor: str
    requires: tuple[Requirement, ...] = ()


@dataclass(frozen=True)
class Machine:
    """A workflow as data — states, transitions, who may act — the engine below does the checks, the moves
    and the listings for every machine.

    `refusal(user, subject, actor_kind, context)` answers who may act: None when `user` is that kind of
    actor, else the message of the refusal (or a DomainError to raise, e.g. a Conflict when the actor's
    own part is over). `steps` are the interface verbs ({verb: run(actor, subject,
    values)}); `verbs` names the transitions a verb covers when they differ ({action: verb}).
    """

    name: str
    model: type
    step_model: type | None  # the history row's model; None: the subject's own row records the step
    subject_key: str  # the history row's column naming the subject
    transitions: dict[str, Transition]
    refusal: Callable
    conflict_message: Callable  # (subject, transition) -> message of a refusal for a wrong state
    lost_message: Callable  # (subject, transition) -> message when someone else moved it first
    signal: object | None  # a blinker signal sent after each step, or None
    states: tuple[str, ...] = ()  # every status a subject may be in
    user_actions: tuple[str, ...] = ()
    pinned: tuple[str, ...] = ()  # columns whose seen value the UPDATE also requires
    after_step: Callable | None = None  # (subject, action, now): side rows in the same statement batch
    steps: dict[str, Callable] = field(default_factory=dict)
    verbs: dict[str, str] = field(default_factory=dict)

    def transition(self, action) -> Transition:
        return self.transitions[action]


def check(machine: Machine, user, subject, action, context=None) -> None:
    """Raise Forbidden for a wrong actor, Conflict for a wrong state or an unmet requirement; else return."""
    transition = machine.transition(action)
    refusal = machine.refusal(user, subject, transition.actor, context)
    if isinstance(refusal, DomainError):  # the right actor whose part is over: refused as the machine says
        raise refusal
    if refusal is not None:
        raise Forbidden(refusal)
    if subject.status not in transition.sources:
        raise Conflict(machine.conflict_message(subject, transition))
    for requirement in transition.requires:
        if not requirement.test(subject):
            raise Conflict(requirement.message(), code=requirement.code)


def can(machine: Machine, user, subject, action, context=None) -> bool:
    """Whether `user` may take `action` on `subject` now (for showing buttons)."""
    if subject.status not in machine.transition(action).sources:  # the cheap test first: no refusal to word
        return False
    try:
        check(machine, user, subject, action, context)
    except DomainError:
        return False
    return True


def available_actions(machine: Machine, user, subject, context=None) -> list:
    """The user actions `user` may take on `subject` now, in the order of the lifecycle."""
    return [a for a in machine.user_actions if can(machine, user, subject, a, context)]


def interface_actions(machine: Machine, user, subject, context=None) -> list[str]:
    """The interface verbs (keys of `machine.steps`) `user` may use on `subject` now, in lifecycle order."""
    names = [machine.verbs.get(a, str(a)) for a in available_actions(machine, user, subject, context)]
    return [name for name in dict.fromkeys(names) if name in machine.steps]


def refusal_of(machine: Machine, user, subject, verb: str, context=None) -> str | None:
    """Why `verb` is not offered to `user` now: the refusal of the first of its transitions that refuses."""
    for action in machine.user_actions:
        if machine.verbs.get(action, str(action)) == verb:
            try:
                check(machine, user, subject, action, context)
            except DomainError as error:
                return error.message
    return None


def listed_verbs(machine: Machine) -> set[str]:
    """Every verb `interface_actions` can ever list: each needs a route in every interface that lists them."""
    return {machine.verbs.get(a, str(a)) for a in machine.user_actions} & set(machine.steps)


def perform(machine: Machine, actor, subject, verb: str, values: dict):
    """Run the interface verb `verb` with its values; Conflict("Unknown action.") for any other name.

    An `expected_status` among the values (the status the client last saw) must still hold: else Conflict
    `status_mismatch`, naming the current status, and nothing is done.
    """
    if verb not in machine.steps:
        raise Conflict(_("Unknown action."), code="unknown_action")
    values = dict(values)
    expect_status(subject, values.pop("expected_status", None))
    return machine.steps[verb](actor, subject, values)


def move(
    machine: Machine,
    subject,
    actor,
    action,
    *,
    note=None,
    guard=(),
    guard_params=None,
    step=None,
    now=None,
    columns=None,
    **values,
):
    """Apply one transition as a conditional UPDATE and record it; Conflict when someone got there first.

    `guard` adds conditions to the UPDATE, `values` (and `columns`, for names the engine takes itself,
    such as `note`) columns it sets; `note` and `step` are columns of the history row. The step is
    audited too (`audit.step_row`, with the channel the interface set), in the UPDATE's statement on
    PostgreSQL (`workflow_history`), as are the rows declared to go with the machine's steps (the owner's
    "claimed" notice: `workflow_history.write_with_steps`). A guard built once, with `bindparam`s, comes with
    their values in `guard_params`.
    """
    values.update(columns or {})
    transition = machine.transition(action)
    model = machine.model
    now = now or utcnow()
    source = subject.status
    target = transition.target or source
    if hasattr(model, "updated_at"):
        values.setdefault("updated_at", now)
    before = {column: audit.plain(getattr(subject, column)) for column in ("status", *machine.pinned)}
    pins = tuple((column, getattr(subject, column) is None) for column in machine.pinned)
    sets = {"status": target, **values}
    returning = bool(db.engine.dialect.update_returning)
    sql = tuple((k, v if isinstance(v, ClauseElement) else None) for k, v in sets.items())  # (column, SQL)
    shape = (model, transition.sources, pins, tuple(guard), sql, returning)
    # built once per shape, unless the guard or a value is SQL built anew for each call (a guard built once
    # with `bindparam`s comes with their values in guard_params): building the UPDATE cost as much as running it
    once = (not guard or guard_params is not None) and not any(v is not None for _k, v in sql)
    statement = (_update if once else _update.__wrapped__)(*shape)
    params = {"move_subject": subject.id, **(guard_params or {})}
    params.update({f"move_set_{k}": sets[k] for k, v in sql if v is None})
    params.update({f"move_pin_{column}": getattr(subject, column) for column, null in pins if not null})
    db.session.flush()  # what is pending counts in the guards, as an autoflush would have made it
    after = _known_after(machine, subject, before, sets)
    audit_row = audit.step_row(actor, subject, action, before, after, note=note, values=values, at=now)
    row = history = None
    if machine.step_model is not None:
        row = machine.step_model(
            **{machine.subject_key: subject.id},
            **(step or {}),
            actor_id=actor.id if actor is not None else None,
            action=action,
            from_status=source,
            to_status=target,
            note=note,
            at=now,
        )
        history = workflow_history.history_values(machine, row)
    written = workflow_history.written_with(machine, subject, action, actor, sets)
    together = row is not None and returning and db.engine.dialect.name == "postgresql"
    along = workflow_history.along_for(subject) if together else None
    if together:  # the UPDATE, its history, audit and written rows in one statement (what is read along too)
        steps = (machine, statement, history, audit_row, once, along, written)
        statement, bound = workflow_history.with_move(*steps)
        params.update(bound)
    connection = db.session.connection()
    wrote = connections.has_written(connection)
    found = _read_back(statement, params, subject, returning)
    if found is None:
        connections.matched_nothing(connection, wrote_before=wrote)  # then the refusal ends with COMMIT
        db.session.refresh(subject)
        raise Conflict(machine.lost_message(subject, transition))
    if together:
        workflow_history.took(machine, subject, row, history, found, along, written)
    elif row is not None:
        workflow_history.record(machine, subject, row, history, audit_row)
    else:
        audit.insert_row(audit_row)
    if not together:
        workflow_history.write_after(written)
    if machine.after_step is not None:
        machine.after_step(subject, action, now)
    db.session.flush()
    if machine.signal is not None:
        machine.signal.send(subject, action=action, actor=actor)
    return subject


@lru_cache(maxsize=256)
def _update(model, sources: tuple, pins: tuple, guard: tuple, sets: tuple, returning: bool):
    """A move's conditional UPDATE of `model`'s table (the ORM's bulk machinery adds nothing here), with the
    subject's id, the seen values of its pinned columns (`pins`: (name, is null)) and the values it sets
    (`sets`: (name, SQL or None)) as parameters, but for those set to SQL."""
    mapper = inspect(model)
    column = {key: mapper.attrs[key].columns[0] for key in (*(k for k, _n in pins), *(k for k, _v in sets))}
    statement = (
        update(mapper.local_table)
        .where(
            model.id == bindparam("move_subject"),
            one_of(model.status, sources),
            *(
                column[k].is_(None) if null else column[k] == bindparam(f"move_pin_{k}", type_=column[k].type)
                for k, null in pins
            ),
            *guard,
        )
        .values(
            {column[k]: bindparam(f"move_set_{k}", type_=column[k].type) if v is None else v for k, v in sets}
        )
    )
    return statement.returning(*(a.expression for a in mapper.column_attrs)) if returning else statement


def _read_back(statement, params: dict, subject, returning: bool) -> list[tuple] | None:
    """Run a move's conditional UPDATE; None when no row matched (someone got there first), else what the
    statement returned after the subject's columns, a tuple a row (with `with_move` the history row's id and
    what was read along; else nothing).

    When it matched, `subject` holds the row as it is now: read back with the UPDATE (RETURNING) where the
    database can, else by a refresh. A relationship over a column that changed is expired, so it follows
    the new value (a many-to-one comes from the identity map when its row is there); the others stay loaded.
    """
    if not returning:  # SQLite before 3.35
        if db.session.connection().execute(statement, params).rowcount != 1:
            return None
        db.session.refresh(subject)
        return [()]
    mapper = inspect(type(subject))
    attributes = mapper.column_attrs
    # Core: the ORM's DML layer adds nothing
    returned = db.session.connection().execute(statement, params).all()
    if not returned:
        return None
    row = returned[0]
    changed = set()
    for attribute, value in zip(attributes, row):
        if subject.__dict__.get(attribute.key, value) != value or attribute.key not in subject.__dict__:
            changed.update(attribute.columns)
        set_committed_value(subject, attribute.key, value)
    stale = [r.key for r in mapper.relationships if changed & set(r.local_columns)]
    if stale:
        db.session.expire(subject, stale)
    return [tuple(found[len(attributes) :]) for found in returned]


def _known_after(machine: Machine, subject, before: dict, sets: dict) -> dict:
    """The audited columns (status, pinned) as the UPDATE will leave them: known before it runs, so the audit
    row goes with it. They take values, not SQL (`values` may set the other columns to SQL)."""
    after = {}
    for column in before:
        value = sets.get(column, getattr(subject, column))
        if isinstance(value, ClauseElement):
            raise TypeError(f"{machine.name}: {column} is audited, so a step sets it to a value, not to SQL")
        after[column] = audit.plain(value)
    return after


CHUNK = 500  # ids per IN list of a set-based move


def move_all(machine: Machine, action, ids, *, note=None, step=None, now=None, **values) -> list:
    """Take a system transition on many subjects at once, set-based; the ids moved.

    Per chunk of ids: one SELECT … FOR UPDATE of those in a source status that meet the transition's
    requirements (their SQL `condition`), one INSERT … SELECT of their history rows and one UPDATE, not
    a loop of single moves. Then each subject moved gets what a single move gives it (its audit row, all in
    one INSERT; `after_step`, the machine's signal and so its reactions). `values` (the UPDATE) and `step`
    (more history columns) map columns to SQL expressions over the row as it was before the move, e.g.
    `level=<one level up>`.
    """
    transition = machine.transition(action)
    if transition.actor != "system":
        raise ValueError(f"{machine.name}.{action} is taken by people, one at a time: use move()")
    model, table = machine.model, machine.step_model.__table__ if machine.step_model is not None else None
    now = now or utcnow()
    conditions = [one_of(model.status, transition.sources)]
    for requirement in transition.requires:
        if requirement.condition is None:
            raise ValueError(f"requirement {requirement.code!r} has no SQL condition for a set-based move")
        conditions.append(requirement.condition())
    if hasattr(model, "updated_at"):
        values.setdefault("updated_at", now)
    target = literal(transition.target, String) if transition.target is not None else model.status
    at = literal(now, DateTime(timezone=True))
    moved, audited = [], tuple(dict.fromkeys(("status", *machine.pinned)))
    before = {}  # the audited columns of each subject moved, as they were
    ids = list(ids)
    for start in range(0, len(ids), CHUNK):
        # PostgreSQL: the rows stay locked until the commit, so nobody moves them between these statements
        rows = db.session.execute(
            select(model.id, *(getattr(model, c) for c in audited))
            .where(model.id.in_(ids[start : start + CHUNK]), *conditions)
            .order_by(model.id)
            .with_for_update()
        ).all()
        if not rows:
            continue
        chunk = [row[0] for row in rows]
        before.update({row[0]: {c: audit.plain(v) for c, v in zip(audited, row[1:])} for row in rows})
        if table is not None:
            history = {
                machine.subject_key: model.id,
                "actor_id": null(),
                "action": literal(getattr(action, "value", action), String),
                "from_status": model.status,
                "to_status": target,
                "note": literal(note, String) if note is not None else null(),
                "at": at,
                **(step or {}),
            }
            db.session.execute(
                table.insert().from_select(
                    list(history), select(*history.values()).where(model.id.in_(chunk))
                )
            )
        db.session.execute(
            update(model)
            .where(model.id.in_(chunk), *conditions)
            .values(status=target, **values)
            .execution_options(synchronize_session=False)
        )
        moved.extend(chunk)
    if moved:
        db.session.flush()
        subjects = []
        for start in range(0, len(moved), CHUNK):
            subjects.extend(
                db.session.scalars(
                    select(model)
                    .where(model.id.in_(moved[start : start + CHUNK]))
                    .execution_options(populate_existing=True)
                )
            )
        audit.record_steps(
            subjects,
            action,
            before,
            lambda s: {c: audit.plain(getattr(s, c)) for c in audited},
            note=note,
            at=now,
        )
        for subject in subjects:
            if machine.after_step is not None:
                machine.after_step(subject, action, now)
            if machine.signal is not None:
                machine.signal.send(subject, action=action, actor=None)
        db.session.flush()
    return moved


def unrouted(machine: Machine, routed) -> set[str]:
    """The verbs `interface_actions` may list that `routed` (an interface's verbs) lacks: each would be a 404."""
    return listed_verbs(machine) - {str(verb) for verb in routed}

"""Schemathesis over the live OpenAPI document: every operation, as an administrator and as a grid worker.

Each operation gets generated valid and invalid requests (and valid ones aimed at real records); none may answer 5xx,
and every answer must match the document. SCHEMATHESIS_MAX_EXAMPLES raises the examples per kind for a deeper run.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance
from sqlalchemy import select
from test_api_wishes import Caller

from app.extensions import db
from app.models import Callup, Certificate, Event, Wish

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,  # the same requests on every run, so a failure here is a failure everywhere
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: the report names the request, curl included
    suppress_health_check=list(HealthCheck),
)


def real_path_parameters() -> dict:
    """Ids of records that exist, so generated requests reach the views' logic and not only their 404s."""
    serial = db.session.scalar(select(Certificate.serial).limit(1))
    return {
        "wish_id": db.session.scalar(select(Wish.id).order_by(Wish.id)),
        "event_id": db.session.scalar(select(Event.id).order_by(Event.id)),
        "callup_id": db.session.scalar(select(Callup.id).order_by(Callup.id)),
        **({"serial": serial} if serial else {}),
    }


def strategy_for(operation, known: dict):
    """Valid and invalid requests for `operation`, plus valid ones about a record that exists."""
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    names = {p.name for p in operation.path_parameters}
    if names and names <= set(known):
        strategies.append(operation.as_strategy(path_parameters={name: known[name] for name in names}))
    return st.one_of(strategies)


def failures_of(operation, strategy, client, headers) -> list[str]:
    """Run `strategy` against the app; each failing request as text (there is at most one per operation)."""
    found = []

    @SETTINGS
    @given(case=strategy)
    def run(case):
        case.call_and_validate(session=client, headers=headers, checks=CHECKS)

    try:
        run()
    except (
        FailureGroup,
        Exception,
    ) as error:  # the checks' failures, or a 500's exception (tests propagate them)
        found.append(f"{operation.label}: {error}")
    return found


@pytest.mark.parametrize("username", ["admin", "grid"])
def test_no_operation_answers_a_server_error_or_breaks_the_document(app, client, demo, username):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = Caller(client, username).headers
    known = real_path_parameters()
    failures, operations = [], 0
    for result in schema.get_all_operations():
        if not isinstance(
            result, Ok
        ):  # an operation the document describes so badly that nothing can test it
            failures.append(str(result.err()))
            continue
        operation = result.ok()
        operations += 1
        failures += failures_of(operation, strategy_for(operation, known), client, headers)
    assert operations >= 30  # the document lists every endpoint
    assert not failures, "\n\n".join(failures)

"""Closed vocabularies of the domain, with their display labels: one module per domain, all importable from here."""

from app.models.choices.accounts import *
from app.models.choices.areas import *
from app.models.choices.base import *
from app.models.choices.callups import *
from app.models.choices.census import *
from app.models.choices.events import *
from app.models.choices.notifications import *
from app.models.choices.party import *
from app.models.choices.wishes import *

"""The public station of each grid (网格红色驿站) and the public check of a work badge: no login."""

from flask import abort, current_app, render_template, session
from flask_babel import get_locale
from flask_login import current_user

from app.extensions import cache
from app.services import badges, stations
from marketplace.blueprint import bp


@bp.get("/grids/<code>")
def station(code):
    """A grid's station: its team, covering units with their pledges and service items, members, wishes done
    recently and the supervision phone. Visitors share one rendering per grid and language for
    STATION_CACHE_SECONDS (nothing on it is personal); unknown codes are 404."""
    seconds = current_app.config.get("STATION_CACHE_SECONDS", 60)
    if seconds <= 0 or current_user.is_authenticated or session.get("_flashes"):
        return render_station(code)
    key = f"station:{get_locale()}:{code[:20]}"
    page = cache.get(key)
    if page is None:
        page = render_station(code)
        cache.set(key, page, timeout=seconds)
    return page


def render_station(code) -> str:
    info = stations.station(code)
    if info is None:
        abort(404)
    return render_template("marketplace/station.html", s=info)


@bp.get("/verify/badge/<serial>")
def verify_badge(serial):
    """Public: is the person at the door who their badge says? Valid, revoked or unknown, the name masked."""
    info = badges.verification(serial)
    response = render_template("marketplace/verify_badge.html", info=info, serial=serial[:40])
    # a revocation must show at once: nobody (browser or proxy) keeps an old answer
    headers = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
    return (response, 200 if info is not None else 404, headers)

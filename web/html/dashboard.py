"""The circle's participation dashboard, for its members, with CSV and JSON exports."""

from __future__ import annotations

import csv
import io
import json

from quart import Blueprint, Response, render_template

from models.services import circles as circle_service
from models.services import dashboard as dashboard_service
from web import security
from web.i18n import N_

bp = Blueprint("dashboard", __name__)
LABELS = {
    "period_days": N_("Days covered"),
    "members": N_("Members"),
    "active_members": N_("Members who wrote something"),
    "questions_asked": N_("Questions asked"),
    "questions_answered": N_("Questions with an accepted answer"),
    "median_hours_to_first_answer": N_("Median hours to a first answer"),
    "unanswered_over_7_days": N_("Questions unanswered for more than 7 days"),
    "meetings_held": N_("Meetings held"),
    "average_attendance": N_("People going per meeting"),
    "reflections_shared": N_("Reflections shared"),
}


async def _figures(handle: str):
    circle = await circle_service.get_circle(handle)
    await circle_service.require_member(circle, security.current_account().actor)
    return circle, await dashboard_service.dashboard(circle)


@bp.get("/c/<handle>/dashboard")
@security.login_required
async def show(handle: str):
    circle, figures = await _figures(handle)
    return await render_template("dashboard/show.html", circle=circle, rows=figures.as_rows(), labels=LABELS)


@bp.get("/c/<handle>/dashboard.csv")
@security.login_required
async def as_csv(handle: str):
    circle, figures = await _figures(handle)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["measure", "value"])
    writer.writerows((name, "" if value is None else value) for name, value in figures.as_rows())
    return _download(out.getvalue(), "text/csv; charset=utf-8", f"{circle.actor.username}-dashboard.csv")


@bp.get("/c/<handle>/dashboard.json")
@security.login_required
async def as_json(handle: str):
    circle, figures = await _figures(handle)
    body = json.dumps({"circle": circle.handle, **dict(figures.as_rows())}, indent=2)
    return _download(body, "application/json", f"{circle.actor.username}-dashboard.json")


def _download(body: str, content_type: str, filename: str) -> Response:
    return Response(body, content_type=content_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})

"""The account's own exports: the list, a progress page that polls, and the download.

Exports are the requester's alone (the file holds what their scope showed them): every route
looks a job up by id AND account, so another account's export, like a garbage id, answers
404. The order and statement lists start exports (app/orders/views.py) and redirect here.
"""

import os

from flask import abort, jsonify, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from app.core import scope
from app.exports import jobs as export_jobs
from app.exports.xlsx import XLSX_MIMETYPE
from app.extensions import db
from app.models import ExportJob, ExportStatus

LIST_LIMIT = 100  # the newest; older ones are pruned after EXPORT_RETENTION_HOURS anyway

STATUS_TEXT = {
    ExportStatus.queued: _l("Waiting to start"),
    ExportStatus.running: _l("Writing"),
    ExportStatus.done: _l("Ready"),
    ExportStatus.failed: _l("Failed"),
}
KIND_TEXT = {
    "orders": _l("Orders"),
    "statements": _l("Statements"),
}


def _percent(job):
    if job.status == ExportStatus.done:
        return 100
    if not job.rows_total:
        return None
    return min(99, int(100 * (job.rows_done or 0) / job.rows_total))


def job_state(job):
    """What the progress page shows, as JSON-ready values."""
    done = job.status == ExportStatus.done
    return {
        "id": job.id,
        "status": job.status.value,
        "status_text": str(STATUS_TEXT[job.status]),
        "rows_done": job.rows_done or 0,
        "rows_total": job.rows_total,
        "percent": _percent(job),
        "error": export_jobs.error_text(job) if job.status == ExportStatus.failed else "",
        "download_url": url_for("ExportView.download", pk=job.id) if done else None,
        "file_name": export_jobs.download_name(job) if done else None,
    }


class ExportView(BaseView):
    route_base = "/exports"
    default_view = "list"
    # The progress page and its JSON are one permission: whoever may watch may poll.
    method_permission_name = {"list": "list", "show": "show", "status": "show",
                              "download": "download"}

    def _own(self, pk):
        pk = scope.parse_pk(pk)
        if pk is None:
            abort(404)
        job = db.session.scalar(select(ExportJob).where(
            ExportJob.id == pk, ExportJob.account_id == current_user.id))
        if job is None:
            abort(404)
        return job

    @expose("/list/")
    @has_access
    def list(self):
        jobs = db.session.scalars(
            select(ExportJob).where(ExportJob.account_id == current_user.id)
            .order_by(ExportJob.id.desc()).limit(LIST_LIMIT)).all()
        rows = [(job, job_state(job), KIND_TEXT.get(job.kind, job.kind)) for job in jobs]
        return self.render_template("exports/list.html", rows=rows)

    @expose("/<pk>")
    @has_access
    def show(self, pk):
        job = self._own(pk)
        return self.render_template("exports/show.html", job=job, state=job_state(job),
                                    kind_text=KIND_TEXT.get(job.kind, job.kind))

    @expose("/<pk>/status")
    @has_access
    def status(self, pk):
        response = jsonify(job_state(self._own(pk)))
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/<pk>/download")
    @has_access
    def download(self, pk):
        job = self._own(pk)
        path = export_jobs.export_path(job)
        if job.status != ExportStatus.done or path is None or not os.path.isfile(path):
            abort(404)  # not finished, failed, or pruned
        return send_file(path, mimetype=XLSX_MIMETYPE, as_attachment=True,
                         download_name=export_jobs.download_name(job), max_age=0)

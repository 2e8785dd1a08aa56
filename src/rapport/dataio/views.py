"""Import pages: upload, a preview of the first rows, a progress bar, the report and its CSV.

Each view parses the request, calls one service or selector, and renders. The progress bar is
the job page itself: it shows where the job is whenever it is loaded, and while the job runs
htmx asks ``import_progress`` every second for the bar (or, once done, for the report).
"""

from __future__ import annotations

import typing

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseForbidden, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed
from rapport.dataio import selectors, services
from rapport.dataio.inputs import ENCODINGS
from rapport.dataio.models import JobStatus
from rapport.dataio.pipeline import MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, ImportAdapter

UPLOAD_FIELDS = ("file", "encoding", "dry_run", "csrfmiddlewaretoken")


def _option_fields(adapter: ImportAdapter, values: dict[str, str]) -> list[dict]:
    """The import type's own options as form fields (a choice list for each Literal)."""
    fields = []
    for name, info in adapter.options.model_fields.items():
        choices = typing.get_args(info.annotation) if typing.get_origin(
            info.annotation) is typing.Literal else ()
        fields.append({"name": name, "label": info.title or name.replace("_", " ").capitalize(),
                       "choices": [(str(c), str(c).replace("_", " ")) for c in choices],
                       "value": values.get(name, "" if info.default is None
                                           else str(info.default))})
    return fields


@login_required
def import_list(request):
    return render(request, "dataio/import_list.html", {
        "jobs": selectors.import_list(user=request.user),
        "types": selectors.import_types(user=request.user), "section": "imports"})


@login_required
def import_start(request, type: str):
    try:
        adapter = selectors.adapter_for(type)
    except ValidationFailed:
        raise Http404(f"there is no {type} import") from None
    if not selectors.may_import(request.user, adapter):
        return HttpResponseForbidden(f"you may not import {adapter.label.lower()}")
    errors: dict = {}
    values = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
    if request.method == "POST":
        try:
            job = services.import_start(actor=request.user, file=request.FILES.get("file"), data={
                "type": type, "encoding": values.get("encoding", ""),
                "dry_run": values.get("dry_run") == "on", "start": False,
                "options": {k: v for k, v in values.items() if k not in UPLOAD_FIELDS}})
        except ValidationFailed as failure:
            errors = failure.errors
        else:
            return redirect("import_detail", job_id=job.id)
    return render(request, "dataio/import_start.html", {
        "adapter": adapter, "errors": errors, "values": values, "encodings": ENCODINGS,
        "options": _option_fields(adapter, values),
        "columns": [(name, aliases[1:], name in adapter.required, adapter.examples.get(name, ""))
                    for name, aliases in adapter.columns.items()],
        "max_rows": f"{MAX_IMPORT_ROWS:,}", "max_megabytes": MAX_IMPORT_BYTES // 1024 // 1024,
        "section": "imports",
    }, status=422 if errors else 200)


def _job_context(request, job_id: int) -> dict:
    try:
        job = selectors.import_get(user=request.user, job_id=job_id)
    except NotFound:
        raise Http404("no such import") from None
    adapter = selectors.import_adapters().get(job.type)
    return {"job": job, "adapter": adapter, "progress": selectors.import_progress(job),
            "report": selectors.import_report(job), "section": "imports"}


@login_required
def import_detail(request, job_id: int):
    context = _job_context(request, job_id)
    if context["job"].status == JobStatus.READY:
        context["preview"] = selectors.import_preview(context["job"])
    return render(request, "dataio/import_detail.html", context)


@login_required
def import_progress(request, job_id: int):
    """The bar while the job runs; the report once it is over (which ends the polling)."""
    return render(request, "dataio/_progress.html", _job_context(request, job_id))


def _act(request, job_id: int, service, done: str):
    try:
        service(actor=request.user, job_id=job_id)
    except NotFound:
        raise Http404("no such import") from None
    except PermissionDenied as denied:
        return HttpResponseForbidden(str(denied))
    except ValidationFailed as failure:
        messages.error(request, " ".join(m for ms in failure.errors.values() for m in ms))
    else:
        messages.success(request, done)
    return redirect("import_detail", job_id=job_id)


@login_required
@require_POST
def import_run(request, job_id: int):
    return _act(request, job_id, services.import_run, "Importing in the background; you can "
                                                      "leave this page and come back.")


@login_required
@require_POST
def import_cancel(request, job_id: int):
    return _act(request, job_id, services.import_cancel, "Cancelled. What was imported stays.")


@login_required
@require_POST
def import_resume(request, job_id: int):
    return _act(request, job_id, services.import_resume, "Resumed where it stopped.")


@login_required
def import_errors_csv(request, job_id: int):
    job = _job_context(request, job_id)["job"]
    response = StreamingHttpResponse(selectors.problems_csv(job),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{selectors.problems_file_name(job)}"'
    return response

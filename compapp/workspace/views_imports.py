"""The upload page: finance and managers import a CSV file of the data contract."""

import os
import tempfile

from django import forms
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from accounts.imports import import_runs_latest
from accounts.models import ImportKind
from accounts.permissions import require_role
from compapp.imports import import_csv

ERRORS_SHOWN = 1000  # a file can have a million bad rows; the command prints them all


class ImportForm(forms.Form):
    kind = forms.ChoiceField(choices=ImportKind.choices)
    file = forms.FileField(help_text="UTF-8 CSV with a header row (see the data contract)")
    dry_run = forms.BooleanField(
        required=False, label="Dry run", help_text="Check the file and count; write nothing"
    )


@require_http_methods(["GET", "POST"])
def import_upload(request):
    require_role(request.user, "finance", "manager")
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        # The importer reads the file twice (a digest, then the rows): give it a path.
        with tempfile.TemporaryDirectory(prefix="compapp-import-") as folder:
            path = os.path.join(folder, "upload.csv")
            with open(path, "wb") as copy:
                for chunk in upload.chunks():
                    copy.write(chunk)
            result = import_csv(
                form.cleaned_data["kind"],
                path,
                dry_run=form.cleaned_data["dry_run"],
                user=request.user,
                filename=os.path.basename(upload.name),
            )
    latest = import_runs_latest()
    context = {
        "form": form,
        "result": result,
        "errors_shown": result.errors[:ERRORS_SHOWN] if result else [],
        "errors_hidden": max(0, len(result.errors) - ERRORS_SHOWN) if result else 0,
        "kinds": [(value, label, latest.get(value)) for value, label in ImportKind.choices],
    }
    return render(request, "imports/upload.html", context, status=200)

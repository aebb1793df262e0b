"""Regulator admins keep the metric aliases: which external metric names the rubric scores."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from audits import selectors
from audits.errors import ServiceError
from audits.intake.catalogue import CATALOGUE
from audits.services import metric_aliases
from audits.web.common import AuthenticatedRequest, act_and_redirect, portal_view


class MetricAliasForm(forms.Form):
    pattern = forms.CharField(
        label="External metric name",
        max_length=200,
        help_text=(
            "namespace:name, with * and ? as wildcards: lm_eval:task/metric, "
            "inspect:task/scorer/metric, or a table's metric name without a namespace."
        ),
    )
    metric = forms.ChoiceField(
        label="Catalogue metric", choices=[(metric, metric) for metric in sorted(CATALOGUE)]
    )


@portal_view
@require_http_methods(["GET", "POST"])
def alias_list(request: AuthenticatedRequest) -> HttpResponse:
    book = selectors.metric_alias_book(user=request.user)
    form = MetricAliasForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            alias = metric_aliases.metric_alias_add(
                acting_user=request.user,
                pattern=form.cleaned_data["pattern"],
                metric=form.cleaned_data["metric"],
            )
        except ServiceError as error:
            form.add_error(error.details.get("field"), error.message)
        else:
            messages.success(
                request,
                f"{alias.pattern} now maps to {alias.metric} for every file uploaded from now on.",
            )
            return redirect("metric-aliases")
    return render(
        request,
        "audits/regulator/metric_aliases.html",
        {"book": book, "form": form, "section": "metric-aliases"},
        status=400 if form.errors else 200,
    )


@portal_view
@require_POST
def alias_remove(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    book = selectors.metric_alias_book(user=request.user)
    alias = book.added.get(pk=pk)

    def remove() -> str:
        metric_aliases.metric_alias_remove(acting_user=request.user, alias=alias)
        return f"The alias {alias.pattern} → {alias.metric} is removed."

    return act_and_redirect(request, remove, "metric-aliases")

"""URLs of the KPI API, included under /api/v1/kpis/ by churnapp/urls.py."""

from django.urls import path

from dashboards.api import KPI_VIEWS, KpiIndexApi, UnknownKpiApi

urlpatterns = [path("", KpiIndexApi.as_view(), name="kpi-index")]
for _name, (_value_view, _series_view) in KPI_VIEWS.items():
    urlpatterns.append(path(f"{_name}/", _value_view.as_view(), name=f"kpi-detail-{_name}"))
    if _series_view is not None:
        urlpatterns.append(path(f"{_name}/series/", _series_view.as_view(), name=f"kpi-series-{_name}"))
urlpatterns += [
    path("<str:name>/", UnknownKpiApi.as_view(), name="kpi-unknown"),
    path("<str:name>/series/", UnknownKpiApi.as_view(), name="kpi-series-unknown"),
]

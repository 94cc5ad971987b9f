from django.urls import path

from promotions import api

S = "calibration/sessions/<int:pk>"
urlpatterns = [
    path("promotions/", api.CaseListView.as_view(), name="api-case-list"),
    path("promotions/<int:pk>/", api.CaseDetailView.as_view(), name="api-case-detail"),
    path("promotions/<int:pk>/axes/<str:axis>/", api.AxisView.as_view(), name="api-case-axis"),
    path("promotions/<int:pk>/submit/", api.CaseSubmitView.as_view(), name="api-case-submit"),
    path("promotions/<int:pk>/decide/", api.CaseDecideView.as_view(), name="api-case-decide"),
    path("promotions/<int:pk>/share/", api.CaseShareView.as_view(), name="api-case-share"),
    path("promotions/<int:pk>/packet/", api.PacketExportView.as_view(), name="api-packet-export"),
    path("promotions/<int:pk>/packet.pdf", api.PacketDownloadView.as_view(), name="api-packet-pdf"),
    path("exports/<str:job_id>/", api.ExportStatusView.as_view(), name="api-export-status"),
    path(
        "exports/<str:job_id>/archive.zip",
        api.ExportArchiveView.as_view(),
        name="api-export-archive",
    ),
    path("cycles/<int:pk>/packets/", api.CycleBatchExportView.as_view(), name="api-cycle-packets"),
    path(f"{S}/packets/", api.SessionBatchExportView.as_view(), name="api-session-packets"),
]

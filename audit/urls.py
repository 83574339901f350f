from django.urls import path

from audit import views, views_audit

app_name = "audit"
urlpatterns = [
    path("", views.home, name="home"),
    path("sites/new/", views.site_add, name="site-add"),
    path("sites/<int:pk>/", views.site_overview, name="site-overview"),
    path("sites/<int:pk>/terms/", views.site_terms, name="site-terms"),
    path("sites/<int:pk>/delete/", views.site_delete, name="site-delete"),
    path("sites/<int:pk>/refdomains/", views.site_refdomains, name="site-refdomains"),
    path("sites/<int:pk>/anchors/", views.site_anchors, name="site-anchors"),
    path("sites/<int:pk>/new-lost/", views.site_new_lost, name="site-new-lost"),
    path("sites/<int:pk>/geo/", views.site_geo, name="site-geo"),
    path("sites/<int:pk>/top-pages/", views.site_top_pages, name="site-top-pages"),
    path("sites/<int:pk>/ip-subnets/", views.site_ip_subnets, name="site-ip-subnets"),
    path("sites/<int:pk>/imports/", views.site_imports, name="site-imports"),
    path("sites/<int:pk>/imports/upload/", views.import_upload, name="import-upload"),
    path("sites/<int:pk>/imports/map/<str:token>/", views.import_map, name="import-map"),
    path("sites/<int:pk>/imports/semrush/", views.semrush_pull, name="semrush-pull"),
    path("sites/<int:site_pk>/imports/<int:pk>/", views.import_detail, name="import-detail"),
    path("sites/<int:site_pk>/imports/<int:pk>/progress/", views.import_progress, name="import-progress"),
    path("sites/<int:site_pk>/imports/<int:pk>/cancel/", views.import_cancel, name="import-cancel"),
    path("sites/<int:site_pk>/imports/<int:pk>/errors.csv", views.import_errors_csv, name="import-errors"),
    # toxicity audit, review and disavow (audit.views_audit)
    path("sites/<int:pk>/toxicity/", views_audit.site_toxicity, name="site-toxicity"),
    path("sites/<int:pk>/toxicity/rerun/", views_audit.toxicity_rerun, name="toxicity-rerun"),
    path("sites/<int:pk>/toxicity/progress/", views_audit.toxicity_progress, name="toxicity-progress"),
    path("sites/<int:pk>/review/", views_audit.review_decide, name="review-decide"),
    path("sites/<int:pk>/disavow/", views_audit.site_disavow, name="site-disavow"),
    path("sites/<int:pk>/disavow/import/", views_audit.disavow_import, name="disavow-import"),
    path("sites/<int:pk>/disavow/export/", views_audit.disavow_export, name="disavow-export"),
    path("sites/<int:pk>/disavow/diff/", views_audit.disavow_diff, name="disavow-diff"),
    path("sites/<int:site_pk>/disavow/versions/<int:pk>.txt", views_audit.disavow_version_download,
         name="disavow-version"),
    path("sites/<int:site_pk>/disavow/entries/<int:pk>/remove/", views_audit.disavow_entry_remove,
         name="disavow-entry-remove"),
]

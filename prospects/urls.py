from django.urls import path

from prospects import views

app_name = "prospects"
urlpatterns = [
    path("projects/", views.project_list, name="project-list"),
    path("projects/new/", views.project_new, name="project-new"),
    path("projects/<int:pk>/", views.project_detail, name="project-detail"),
    path("projects/<int:pk>/members/", views.project_members, name="project-members"),
    path("pipeline/", views.pipeline, name="pipeline"),
]

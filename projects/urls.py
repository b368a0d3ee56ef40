from django.urls import path

from projects import apis

urlpatterns = [
    path("projects", apis.ProjectListApi.as_view(), name="projects"),
    path("projects/<id:project_id>", apis.ProjectDetailApi.as_view(), name="project-detail"),
    path(
        "projects/<id:project_id>/milestones/<id:number>/submission",
        apis.MilestoneSubmissionApi.as_view(),
        name="milestone-submission",
    ),
    path(
        "projects/<id:project_id>/funding", apis.ProjectFundingApi.as_view(), name="project-funding"
    ),
    path(
        "projects/<id:project_id>/reviews", apis.ProjectReviewsApi.as_view(), name="project-reviews"
    ),
]

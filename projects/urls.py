from django.urls import path

from projects import apis, users_apis

urlpatterns = [
    path("projects", apis.ProjectListApi.as_view(), name="projects"),
    path("projects/<id:project_id>", apis.ProjectDetailApi.as_view(), name="project-detail"),
    path(
        "projects/<id:project_id>/milestones/<id:number>/submission",
        apis.MilestoneSubmissionApi.as_view(),
        name="milestone-submission",
    ),
    path("projects/<id:project_id>/cancel", apis.ProjectCancelApi.as_view(), name="project-cancel"),
    path(
        "projects/<id:project_id>/funding", apis.ProjectFundingApi.as_view(), name="project-funding"
    ),
    path(
        "projects/<id:project_id>/reviews", apis.ProjectReviewsApi.as_view(), name="project-reviews"
    ),
]

urlpatterns += [  # after accounts' users/me (stxworx/urls.py includes accounts first)
    path("users/<str:address>", users_apis.UserDetailApi.as_view(), name="user-detail"),
    path("users/<str:address>/reviews", users_apis.UserReviewsApi.as_view(), name="user-reviews"),
]

urlpatterns += [
    path(
        "projects/<id:project_id>/disputes",
        apis.ProjectDisputesApi.as_view(),
        name="project-disputes",
    ),
    path("disputes/<id:dispute_id>", apis.DisputeDetailApi.as_view(), name="dispute-detail"),
    path(
        "disputes/<id:dispute_id>/statement",
        apis.DisputeStatementApi.as_view(),
        name="dispute-statement",
    ),
    path(
        "disputes/<id:dispute_id>/evidence",
        apis.DisputeEvidenceApi.as_view(),
        name="dispute-evidence",
    ),
    path("admin/disputes", apis.AdminDisputeListApi.as_view(), name="admin-disputes"),
    path(
        "admin/disputes/<id:dispute_id>",
        apis.AdminDisputeDetailApi.as_view(),
        name="admin-dispute-detail",
    ),
]

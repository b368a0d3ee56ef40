from django.urls import path

from proposals import apis

urlpatterns = [
    path(
        "projects/<id:project_id>/proposals",
        apis.ProjectProposalsApi.as_view(),
        name="project-proposals",
    ),
    path(
        "freelancers/<str:address>/proposals",
        apis.FreelancerProposalsApi.as_view(),
        name="freelancer-proposals",
    ),
    path("proposals/<id:proposal_id>", apis.ProposalDetailApi.as_view(), name="proposal-detail"),
    path(
        "proposals/<id:proposal_id>/withdraw",
        apis.ProposalWithdrawApi.as_view(),
        name="proposal-withdraw",
    ),
    path(
        "proposals/<id:proposal_id>/accept",
        apis.ProposalAcceptApi.as_view(),
        name="proposal-accept",
    ),
    path(
        "proposals/<id:proposal_id>/reject",
        apis.ProposalRejectApi.as_view(),
        name="proposal-reject",
    ),
]

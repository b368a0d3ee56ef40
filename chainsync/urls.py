from django.urls import path

from chainsync import apis

urlpatterns = [
    path("blockchain/projects", apis.ChainProjectListApi.as_view(), name="chain-projects"),
    path(
        "blockchain/project/<id:on_chain_id>",
        apis.ChainProjectDetailApi.as_view(),
        name="chain-project-detail",
    ),
    path("blockchain/events", apis.ChainEventListApi.as_view(), name="chain-events"),
    path("blockchain/verify-tx", apis.VerifyTxApi.as_view(), name="chain-verify-tx"),
    path("blockchain/chainhook", apis.ChainhookApi.as_view(), name="chain-chainhook"),
    path("blockchain/sync-status", apis.SyncStatusApi.as_view(), name="chain-sync-status"),
]

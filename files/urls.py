from django.urls import path

from files import apis

urlpatterns = [
    path("files", apis.FilesApi.as_view(), name="files"),
    path("files/<str:cid>", apis.FileDownloadApi.as_view(), name="file"),
    path("files/<str:cid>/info", apis.FileInfoApi.as_view(), name="file-info"),
]

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self) -> None:
        from accounts.signals import session_revoked
        from notifications.services import session_revoked_push

        def close_sessions(sender: object, *, jti: str, **kwargs: object) -> None:
            session_revoked_push(jti=jti)

        session_revoked.connect(close_sessions, weak=False, dispatch_uid="notifications.session")

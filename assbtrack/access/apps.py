from django.apps import AppConfig, apps


class AccessConfig(AppConfig):
    name = "assbtrack.access"
    label = "access"
    verbose_name = "Projects and access"

    def ready(self) -> None:
        # Imported here, not at the top: models, and the modules using them, load once the app registry is ready.
        from django.db.models.signals import post_migrate

        from .roles import roles_sync

        def sync_after_last_app(sender, **kwargs) -> None:
            # Permissions are created app by app after migrate; the roles can only be synced once the
            # last app has its permissions.
            if sender is list(apps.get_app_configs())[-1]:
                roles_sync(using=kwargs.get("using", "default"))

        post_migrate.connect(sync_after_last_app, dispatch_uid="assbtrack.access.roles_sync", weak=False)

"""Imports every model module, so that SQLAlchemy and Alembic see all tables."""


def import_models():
    from .audit import models as audit_models  # noqa: F401
    from .auth import models as auth_models  # noqa: F401
    from .mail import models as mail_models  # noqa: F401
    from .ideas import models as idea_models  # noqa: F401
    from .notifications import models as notification_models  # noqa: F401
    from .measures import models as measure_models  # noqa: F401
    from .analysis import models as analysis_models  # noqa: F401
    from .balance import models as balance_models  # noqa: F401
    from .meetings import models as meeting_models  # noqa: F401
    from .events import models as event_models  # noqa: F401

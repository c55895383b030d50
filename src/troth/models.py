"""Every domain's tables, imported in one place so migrations see the whole schema."""

from __future__ import annotations

from troth.analytics import models as _analytics  # noqa: F401
from troth.audit import models as _audit  # noqa: F401
from troth.collect import models as _collect  # noqa: F401
from troth.comms import models as _comms  # noqa: F401
from troth.comms import opens as _opens  # noqa: F401
from troth.consent import models as _consent  # noqa: F401
from troth.db import Base
from troth.jobs import models as _jobs  # noqa: F401
from troth.people import account_models as _accounts  # noqa: F401
from troth.people import guardian_models as _guardians  # noqa: F401
from troth.people import models as _people  # noqa: F401
from troth.policy import models as _policy  # noqa: F401
from troth.security import models as _security  # noqa: F401

metadata = Base.metadata

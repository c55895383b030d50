"""Every domain's tables, imported in one place so migrations see the whole schema."""

from __future__ import annotations

from troth.audit import models as _audit  # noqa: F401
from troth.db import Base
from troth.jobs import models as _jobs  # noqa: F401
from troth.policy import models as _policy  # noqa: F401
from troth.security import models as _security  # noqa: F401

metadata = Base.metadata

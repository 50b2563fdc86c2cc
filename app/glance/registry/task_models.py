"""The ``tasks`` table: Glance's asynchronous work (v2 imports, legacy import tasks).

One table where Glance has two (``tasks`` and ``task_info``): the input,
result and message are JSON or text columns read only when a task is shown
whole.  A finished task gets ``expires_at`` (``task_time_to_live`` later);
past it, the task is hidden and glance-scrubber deletes the row.
"""
from sqlalchemy import Column, Index, String, Text

from glance.registry.models import MYSQL_ARGS, Base, Timestamp, new_id, utcnow
from glance.task_rules import PENDING


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_created_at", "created_at", "id"),
        Index("ix_tasks_updated_at", "updated_at", "id"),
        Index("ix_tasks_expires_at", "expires_at"),
        Index("ix_tasks_image_id", "image_id"),
        Index("ix_tasks_owner", "owner"),
        MYSQL_ARGS,
    )

    id = Column(String(36), primary_key=True, default=new_id)
    type = Column(String(30), nullable=False)
    status = Column(String(30), nullable=False, default=PENDING)
    # None only for a task of noauth's identity-less admin.
    owner = Column(String(255))
    image_id = Column(String(36))
    user_id = Column(String(255))
    request_id = Column(String(64))
    input = Column(Text)             # JSON object
    result = Column(Text)            # JSON object, once it succeeded
    message = Column(Text, nullable=False, default="")
    expires_at = Column(Timestamp)
    created_at = Column(Timestamp, nullable=False, default=utcnow)
    updated_at = Column(Timestamp, nullable=False, default=utcnow, onupdate=utcnow)

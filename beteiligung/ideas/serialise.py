"""The public fields of an idea, shared by the JSON API and the open-data export."""
from flask import url_for

from ..models import isoformat


def public_fields(idea):
    """What anyone may see about a visible idea, as plain JSON-ready values."""
    return {
        "id": idea.id,
        "title": idea.title,
        "text": idea.text,
        "sector": idea.sector.code if idea.sector else None,
        "sector_name": idea.sector.name if idea.sector else None,
        "district": idea.district.code,
        "district_name": idea.district.name,
        "status": idea.status,
        "status_label": str(idea.status_enum.label),
        "source": idea.source,
        "source_label": str(idea.source_enum.label),
        "event_name": idea.event_name,
        "supports": idea.support_count,
        "dot_votes": idea.dot_votes,
        "comments": idea.comment_count,
        "answer": idea.answer,
        "answered_at": isoformat(idea.answered_at),
        "merged_into": idea.merged_into_id,
        "latitude": idea.latitude,
        "longitude": idea.longitude,
        "created_at": isoformat(idea.created_at),
        "updated_at": isoformat(idea.updated_at),
        "url": url_for("ideas.detail", idea_id=idea.id, _external=True),
    }

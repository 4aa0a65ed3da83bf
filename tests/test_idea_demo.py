"""The demo process holds about 800 ideas of our own, spread like a real process."""
from collections import Counter

from sqlalchemy import func, select

from beteiligung.extensions import db
from beteiligung.ideas.demo import DISTRICTS, read_demo_ideas
from beteiligung.ideas.models import Comment, District, Idea, Report, Sector, StatusChange, Support


def test_demo_files_parse_cleanly():
    ideas = read_demo_ideas()
    assert len(ideas) >= 800
    assert all(idea.title and idea.text and len(idea.title) <= 120 and len(idea.text) <= 5000 for idea in ideas)
    assert all(idea.district is None or idea.district in DISTRICTS for idea in ideas)
    assert len({idea.title for idea in ideas}) > 0.97 * len(ideas)  # written one by one, not templated


def test_demo_ideas_are_spread_like_a_real_process(app, demo):
    with app.test_request_context():
        ideas = db.session.scalars(select(Idea)).all()
        online = [idea for idea in ideas if idea.source == "online"]
        assert len(online) >= 750
        sectors = Counter(idea.sector.code for idea in online if idea.sector)
        order = [code for code, _n in sectors.most_common()]
        assert order[0] == "mobilitaet" and set(order[1:3]) <= {"energie", "wohngebaeude", "verwaltung"}
        assert set(sectors) == set(db.session.scalars(select(Sector.code)))
        assert sum(1 for idea in online if idea.sector is None) >= 40  # "weiß ich nicht"
        used = {idea.district_id for idea in ideas}
        assert used == set(db.session.scalars(select(District.id)))
        sources = Counter(idea.source for idea in ideas)
        assert sources["event"] >= 30 and sources["workshop"] >= 20
        events = {idea.event_name for idea in ideas if idea.source == "event"}
        assert len(events) == 2
        assert sum(idea.dot_votes for idea in ideas) > 100
        assert all(idea.author_id is None and idea.entered_by_id for idea in ideas if idea.source != "online")
        assert 5 <= sum(1 for idea in ideas if idea.is_hidden) <= 30
        answered = db.session.scalar(select(func.count(StatusChange.id)).where(StatusChange.answer.isnot(None)))
        assert answered >= 100
        assert db.session.scalar(select(func.count(Comment.id))) >= 400
        assert db.session.scalar(select(func.count(Report.id)).where(Report.resolved_at.is_(None))) >= 3
        rows = dict(db.session.execute(select(Support.idea_id, func.count(Support.id)).group_by(Support.idea_id)).all())
        assert all(idea.support_count == rows.get(idea.id, 0) for idea in ideas)
        comments = dict(db.session.execute(select(Comment.idea_id, func.count(Comment.id)).group_by(Comment.idea_id)).all())
        assert all(idea.comment_count == comments.get(idea.id, 0) for idea in ideas)
        authors = Counter(idea.author_id for idea in online)
        assert len(authors) >= 100 and max(authors.values()) < 25
    response = app.test_client().get("/ideen/?q=Radwege")
    assert response.status_code == 200 and "Ideen gefunden" in response.get_data(as_text=True)

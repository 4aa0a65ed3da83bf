"""Supports under concurrency, through the API, on SQLite (file, WAL) and PostgreSQL.

Every request runs in its own thread with its own test client, released together by
a barrier, so the database sees them at the same moment. The figures that must hold:
25 people at once give exactly 25 supports; one person pressing 10 times at once
gives exactly 1; 10 withdrawals at once leave 0; and whatever the mix, the counter
on the idea equals the number of support rows.
"""
import random
import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from beteiligung.auth.models import User
from beteiligung.extensions import db
from beteiligung.ideas.models import Idea, Support

TIMEOUT = 120


@pytest.fixture
def bearer_users(app, make_user):
    """`bearer_users(n)`: n new citizens, each with their own API token header."""
    from beteiligung.auth.services import create_api_token

    def make(count):
        handles = [make_user() for _ in range(count)]
        headers = []
        with app.test_request_context():
            for handle in handles:
                _token, secret = create_api_token(db.session.get(User, handle.id), "Nebenläufigkeit")
                headers.append({"Authorization": f"Bearer {secret}"})
            db.session.commit()
        return headers

    return make


def run_together(app, jobs):
    """Run `jobs` (functions of a test client) in threads released at once; their results in order."""
    barrier = threading.Barrier(len(jobs))
    results, errors = [None] * len(jobs), []

    def work(position, job):
        client = app.test_client()
        try:
            barrier.wait(timeout=TIMEOUT)
            results[position] = job(client)
        except BaseException as error:  # reported in the test's own thread below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n, job), daemon=True) for n, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "requests did not finish"
    if errors:
        raise errors[0]
    return results


def support_figures(app, idea_id):
    """(rows in supports, the idea's counter), read fresh."""
    with app.app_context():
        rows = db.session.scalar(select(func.count(Support.id)).where(Support.idea_id == idea_id))
        counter = db.session.scalar(select(Idea.support_count).where(Idea.id == idea_id))
        return rows, counter


def post_support(idea_id, headers):
    def job(client):
        response = client.post(f"/api/v1/ideas/{idea_id}/support", headers=headers)
        return response.status_code, response.get_json()

    return job


def delete_support(idea_id, headers):
    def job(client):
        response = client.delete(f"/api/v1/ideas/{idea_id}/support", headers=headers)
        return response.status_code, response.get_json()

    return job


def test_25_people_supporting_at_once_give_exactly_25(app, make_idea, bearer_users):
    idea_id = make_idea()
    people = bearer_users(25)
    results = run_together(app, [post_support(idea_id, headers) for headers in people])
    assert [status for status, _body in results] == [201] * 25, results
    assert all(body["supported"] is True for _status, body in results)
    assert sorted(body["supports"] for _status, body in results)[-1] == 25
    assert support_figures(app, idea_id) == (25, 25)


def test_one_person_pressing_10_times_at_once_gives_exactly_1(app, make_idea, bearer_users):
    idea_id = make_idea()
    (headers,) = bearer_users(1)
    results = run_together(app, [post_support(idea_id, headers) for _ in range(10)])
    statuses = Counter(status for status, _body in results)
    assert statuses == Counter({201: 1, 200: 9}), results
    assert all(body == {"supported": True, "supports": 1} for _status, body in results)
    assert support_figures(app, idea_id) == (1, 1)

    results = run_together(app, [delete_support(idea_id, headers) for _ in range(10)])
    assert [status for status, _body in results] == [200] * 10, results
    assert all(body == {"supported": False, "supports": 0} for _status, body in results)
    assert support_figures(app, idea_id) == (0, 0)


def test_a_concurrent_mix_keeps_counter_equal_to_rows(app, make_idea, bearer_users):
    ideas = [make_idea(title=f"Idee {n}") for n in range(2)]
    people = bearer_users(8)
    chooser = random.Random(2035)
    jobs = []
    for headers in people:
        steps = [(chooser.choice(ideas), chooser.choice(("post", "delete"))) for _ in range(6)]

        def job(client, headers=headers, steps=steps):
            statuses = []
            for idea_id, method in steps:
                response = client.open(f"/api/v1/ideas/{idea_id}/support", method=method.upper(), headers=headers)
                statuses.append(response.status_code)
            return statuses

        jobs.append(job)
    results = run_together(app, jobs)
    assert {status for statuses in results for status in statuses} <= {200, 201}, results
    for idea_id in ideas:
        rows, counter = support_figures(app, idea_id)
        assert rows == counter, (idea_id, rows, counter)
        assert 0 <= rows <= len(people)


def test_supports_and_withdrawals_of_many_people_at_once(app, make_idea, bearer_users):
    """Half the people withdraw while the other half support: the counter follows the rows."""
    idea_id = make_idea()
    people = bearer_users(20)
    run_together(app, [post_support(idea_id, headers) for headers in people[:10]])
    assert support_figures(app, idea_id) == (10, 10)
    jobs = [delete_support(idea_id, headers) for headers in people[:10]]
    jobs += [post_support(idea_id, headers) for headers in people[10:]]
    results = run_together(app, jobs)
    assert [status for status, _body in results] == [200] * 10 + [201] * 10, results
    assert support_figures(app, idea_id) == (10, 10)


# --- double submits of forms -------------------------------------------------------------

def signed_in_job(app, user, action):
    """A job for run_together: a client signed in as `user` that runs `action(client)`."""
    from .conftest import login_as

    def job(client):
        login_as(client, user)
        return action(client)

    return job


def test_the_same_comment_sent_6_times_at_once_is_stored_once(app, users, make_idea):
    from beteiligung.ideas.models import Comment

    from .conftest import post_form

    idea_id = make_idea(author=users["member"])
    send = signed_in_job(app, users["citizen"], lambda client: post_form(
        client, f"/ideen/{idea_id}/kommentare", {"text": "Bitte auch an die Schulwege denken."}).status_code)
    results = run_together(app, [send] * 6)
    assert set(results) == {302}, results
    with app.app_context():
        texts = db.session.scalars(select(Comment.text).where(Comment.idea_id == idea_id)).all()
        counter = db.session.scalar(select(Idea.comment_count).where(Idea.id == idea_id))
    assert texts == ["Bitte auch an die Schulwege denken."]
    assert counter == 1


def test_two_people_commenting_on_each_others_ideas_at_once_never_deadlock(app, users, make_idea):
    """Each comment notifies the other idea's author: the duplicate check's lock must not cross."""
    from .conftest import post_form

    first, second = users["citizen"], users["member"]
    idea_of = {first.id: make_idea(author=first), second.id: make_idea(author=second)}
    jobs = []
    for round_number in range(10):
        for writer, other in ((first, second), (second, first)):
            jobs.append(signed_in_job(app, writer, lambda client, idea=idea_of[other.id], n=round_number, w=writer.id:
                                      post_form(client, f"/ideen/{idea}/kommentare",
                                                {"text": f"Runde {n} von {w}"}).status_code))
    assert set(run_together(app, jobs)) == {302}
    with app.app_context():
        counts = db.session.execute(select(Idea.id, Idea.comment_count)).all()
    assert sorted(count for _id, count in counts) == [10, 10]


def test_the_same_idea_sent_4_times_at_once_is_stored_once(app, users, idea_setup):
    from .conftest import post_form

    form = {"title": "Trinkbrunnen am Holzmarkt", "text": "Im Sommer fehlt in der Innenstadt Trinkwasser.",
            "sector": "mobilitaet", "district": idea_setup.districts[0]}
    send = signed_in_job(app, users["citizen"], lambda client: post_form(client, "/ideen/neu", form).status_code)
    results = run_together(app, [send] * 4)
    assert set(results) == {302}, results
    with app.app_context():
        titles = db.session.scalars(select(Idea.title)).all()
    assert titles == ["Trinkbrunnen am Holzmarkt"]

"""Every demo idea carries a human topic label: the ground truth the clustering is evaluated against."""
from collections import Counter

from beteiligung.ideas.demo import demo_topics, labelled_demo_ideas, parse, read_demo_ideas
from beteiligung.ideas.services import DEFAULT_SECTORS

SECTOR_CODES = {code for code, _name, _description, _seeds in DEFAULT_SECTORS}


def test_every_demo_idea_has_a_known_topic():
    topics = demo_topics()
    ideas = read_demo_ideas()
    assert all(idea.topic for idea in ideas)
    assert {idea.topic for idea in ideas} <= set(topics)


def test_every_topic_is_used_at_least_three_times():
    used = Counter(idea.topic for idea in read_demo_ideas())
    assert {code: used[code] for code in demo_topics() if used[code] < 3} == {}


def test_topic_list_is_a_plausible_measure_plan():
    topics = demo_topics()
    assert 35 <= len(topics) <= 50
    assert {sector for _name, sector in topics.values()} == SECTOR_CODES
    assert len({name for name, _sector in topics.values()}) == len(topics)


def test_labelled_ideas_are_plain_rows_for_every_parsed_idea():
    rows = labelled_demo_ideas()
    ideas = read_demo_ideas()
    assert len(rows) == len(ideas)
    assert len({row["id"] for row in rows}) == len(rows)
    assert all(set(row) == {"id", "title", "text", "sector", "topic"} for row in rows)
    assert all(row["sector"] in SECTOR_CODES for row in rows)
    assert [row["text"] for row in rows] == [idea.text for idea in ideas]
    assert rows[0]["id"] == "energie-1"


def test_unsure_citizens_get_the_sector_of_their_topic():
    topics = demo_topics()
    ideas = read_demo_ideas()
    unsure = [row for row, idea in zip(labelled_demo_ideas(), ideas) if idea.sector is None]
    assert len(unsure) >= 40
    assert all(row["sector"] == topics[row["topic"]][1] for row in unsure)


def test_topic_line_only_counts_in_the_header():
    idea = parse("%%% energie\n=== Titel\n@ Jena-Nord\n~ fernwaerme\nText\n~ kein Thema\n")[0]
    assert idea.topic == "fernwaerme" and idea.district == "Jena-Nord"
    assert idea.text == "Text\n~ kein Thema"

"""The simple similarity index behind the "Gibt es das schon?" box."""
from analyse.similar import SimilarityIndex, analyse_text


def test_german_forms_and_stop_words():
    terms = analyse_text("Die Radwege und der Radweg in Lobeda")
    assert terms.count("radweg") == 2
    assert "und" not in terms and "die" not in terms


def test_nearest_texts_first_with_a_threshold():
    index = SimilarityIndex([
        (1, "Radweg an der Saale zwischen Burgau und Zwätzen ausbauen"),
        (2, "Mehr Bäume im Paradiespark pflanzen"),
        (3, "Die Radwege in Lobeda sind voller Schlaglöcher"),
        (4, "Photovoltaik auf alle Schuldächer"),
        (5, ""),
    ])
    assert len(index) == 4
    matches = index.query("Radwege in Lobeda und an der Saale reparieren")
    assert [m.id for m in matches][:2] == [3, 1]
    assert all(a.score >= b.score for a, b in zip(matches, matches[1:]))
    assert 4 not in [m.id for m in matches] and 2 not in [m.id for m in matches]
    assert index.query("Radwege in Lobeda und an der Saale", exclude={3})[0].id == 1
    assert index.query("und oder aber") == []
    assert len(index.query("Radweg", limit=1)) == 1


def test_empty_index():
    assert SimilarityIndex([]).query("Radweg") == []
    assert SimilarityIndex([(1, "und der die")]).query("und") == []

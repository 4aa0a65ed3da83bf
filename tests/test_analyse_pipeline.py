"""The analysis pipeline on a small synthetic set of ideas in four clear topics."""
import pytest

from analyse import DEFAULT_SECTORS, Document, MeasureSpec, SectorSuggestion, analyse, extend
from analyse.cluster import auto_k_range

# (topic, expected field of action, title, text)
IDEAS = [
    ("rad", "mobilitaet", "Sichere Radwege an der Hauptstraße",
     "Die Radwege an der Hauptstraße sind zu schmal und enden plötzlich. Bitte durchgehende Radwege bauen."),
    ("rad", "mobilitaet", "Fahrradstellplätze am Bahnhof",
     "Am Bahnhof fehlen Fahrradstellplätze, die Fahrräder stehen überall herum."),
    ("rad", "mobilitaet", "Radweg nach Lobeda",
     "Der Radweg nach Lobeda hat viele Schlaglöcher und ist für Radfahrer gefährlich."),
    ("rad", "mobilitaet", "Fahrradstraße in der Innenstadt",
     "Eine Fahrradstraße durch die Innenstadt würde den Radverkehr sicherer machen."),
    ("rad", "mobilitaet", "Radwegenetz ausbauen",
     "Das Radwegenetz hat Lücken. Radfahrer müssen oft auf die Fahrbahn ausweichen."),
    ("rad", "mobilitaet", "Mehr Abstellplätze für Fahrräder",
     "Vor Schulen und Geschäften brauchen wir mehr Abstellplätze für Fahrräder und Lastenräder."),
    ("rad", "mobilitaet", "Ampeln für Radfahrer",
     "Die Ampelschaltung bevorzugt Autos. Radfahrer warten an jeder Kreuzung lange auf Grün."),
    ("rad", "mobilitaet", "Radschnellweg entlang der Saale",
     "Ein Radschnellweg entlang der Saale verbindet Wohngebiete und Arbeitsplätze für Pendler mit dem Fahrrad."),
    ("rad", "mobilitaet", "Schutzstreifen für Radfahrer",
     "Auf der Karl-Liebknecht-Straße fehlen Schutzstreifen für Radfahrer, Autos überholen zu knapp."),
    ("rad", "mobilitaet", "Winterdienst auf Radwegen",
     "Im Winter werden die Radwege nicht geräumt und Radfahrer rutschen auf dem Eis."),
    ("solar", "energie", "Photovoltaik auf Schuldächer",
     "Auf die Dächer aller Schulen gehören Solaranlagen, die Strom für den Unterricht liefern."),
    ("solar", "energie", "Balkonkraftwerke fördern",
     "Ein Zuschuss für Balkonkraftwerke hilft Mietern, eigenen Solarstrom zu erzeugen."),
    ("solar", "energie", "Solarpark an der Autobahn",
     "Die Flächen an der Autobahn eignen sich für einen Solarpark mit Photovoltaik."),
    ("solar", "energie", "Solaranlagen auf Parkplätzen",
     "Große Parkplätze mit Solaranlagen überdachen, das liefert Solarstrom und Schatten."),
    ("solar", "energie", "Mehr Ökostrom von den Stadtwerken",
     "Die Stadtwerke sollen Strom aus Sonne und Wind erzeugen statt aus Gas und Kohle."),
    ("solar", "energie", "Solarkataster aktualisieren",
     "Das Solarkataster zeigt, welche Dächer sich für Photovoltaik eignen. Es ist veraltet."),
    ("solar", "energie", "Windräder auf den Höhen",
     "Auf den Höhen rund um die Stadt könnten Windräder viel Strom für die Stadtwerke erzeugen."),
    ("solar", "energie", "Bürgerenergie-Genossenschaft gründen",
     "Eine Genossenschaft für Bürgerenergie baut Solaranlagen und Windräder gemeinsam mit den Bürgern."),
    ("solar", "energie", "Photovoltaik auf allen Neubauten",
     "Jeder Neubau sollte eine Photovoltaikanlage auf dem Dach bekommen, damit Solarstrom entsteht."),
    ("solar", "energie", "Speicher für Solarstrom",
     "Batteriespeicher für den Solarstrom aus den Photovoltaikanlagen der Stadtwerke bauen."),
    ("haus", "wohngebaeude", "Altbauten dämmen",
     "Viele Altbauten verlieren Wärme durch schlecht gedämmte Fassaden und alte Fenster."),
    ("haus", "wohngebaeude", "Energieberatung für Hausbesitzer",
     "Kostenlose Energieberatung hilft Hausbesitzern bei der Sanierung ihrer Häuser."),
    ("haus", "wohngebaeude", "Wärmepumpen statt Ölheizung",
     "Förderung für den Heizungstausch: Wärmepumpen statt alter Ölheizungen in Wohnhäusern."),
    ("haus", "wohngebaeude", "Sanierung der Plattenbauten",
     "Die Wohnungsgesellschaft soll die Plattenbauten in Winzerla dämmen und sanieren."),
    ("haus", "wohngebaeude", "Mieter bei der Sanierung schützen",
     "Nach der Sanierung dürfen die Mieten nicht zu stark steigen, Mieter brauchen Schutz vor Vermietern."),
    ("haus", "wohngebaeude", "Neue Fenster in Mietwohnungen",
     "Alte Fenster in Mietwohnungen lassen die Wärme raus, Vermieter sollten sie tauschen."),
    ("haus", "wohngebaeude", "Dämmung der Dächer und Keller",
     "Ungedämmte Dächer und Kellerdecken in Wohnhäusern verschwenden Heizenergie, die Dämmung lohnt sich."),
    ("haus", "wohngebaeude", "Sanierungsförderung für Eigentümer",
     "Eigentümer von Wohnhäusern brauchen ein einfaches Förderprogramm für die energetische Sanierung."),
    ("haus", "wohngebaeude", "Quartierskonzept für Wohnviertel",
     "Ein Quartierskonzept plant Sanierung, Dämmung und Heizung für ein ganzes Wohnviertel."),
    ("haus", "wohngebaeude", "Heizkosten senken durch Dämmung",
     "Mit besserer Wärmedämmung der Wohnungen sinken die Heizkosten der Mieter deutlich."),
    ("gruen", "uebergreifend", "Mehr Bäume in der Innenstadt",
     "In der Innenstadt fehlen Bäume, die im Sommer Schatten spenden und die Hitze mildern."),
    ("gruen", "uebergreifend", "Straßenbäume gießen",
     "Patenschaften zum Gießen der Straßenbäume im trockenen Sommer einrichten."),
    ("gruen", "uebergreifend", "Blühwiesen statt Rasen",
     "Die Grünflächen im Park als Blühwiesen für Insekten und Bienen anlegen."),
    ("gruen", "uebergreifend", "Gemeinschaftsgarten im Stadtteil",
     "Ein Gemeinschaftsgarten, in dem Nachbarn Gemüse und Kräuter anbauen, bringt Grün in den Stadtteil."),
    ("gruen", "uebergreifend", "Schulhöfe begrünen",
     "Asphaltierte Schulhöfe entsiegeln und mit Bäumen und Beeten begrünen."),
    ("gruen", "uebergreifend", "Keine gesunden Bäume fällen",
     "Gesunde alte Bäume dürfen nicht für neue Bauprojekte gefällt werden."),
    ("gruen", "uebergreifend", "Park an der Saale pflegen",
     "Der Park an der Saale braucht mehr Pflege, neue Bäume und Blumenbeete."),
    ("gruen", "uebergreifend", "Obstbäume pflanzen",
     "Auf öffentlichen Grünflächen Obstbäume pflanzen, deren Obst alle ernten dürfen."),
    ("gruen", "uebergreifend", "Fassaden begrünen",
     "Begrünte Fassaden mit Kletterpflanzen kühlen die Straßen im Sommer wie Bäume."),
    ("gruen", "uebergreifend", "Stadtwald erweitern",
     "Neue Bäume pflanzen und den Stadtwald am Stadtrand zu einem größeren Wald erweitern."),
]
TOPIC = {number: topic for number, (topic, _sector, _title, _text) in enumerate(IDEAS, start=1)}


def documents(ideas=IDEAS, sectors=None):
    """Documents with ids 1..n; `sectors` maps id -> confirmed field of action."""
    sectors = sectors or {}
    return [Document(number, text, title, sectors.get(number))
            for number, (_topic, _sector, title, text) in enumerate(ideas, start=1)]


@pytest.fixture(scope="module")
def result():
    return analyse(documents(), k=4, seed=0)


def purity(assignments, truth):
    per_cluster = {}
    for doc_id, number in assignments.items():
        per_cluster.setdefault(number, []).append(truth[doc_id])
    return sum(max(labels.count(label) for label in set(labels)) for labels in per_cluster.values()) / len(truth)


def test_four_clear_topics_are_found_with_k_given(result):
    assert result.k == 4 and not result.k_automatic and len(result.clusters) == 4
    assert purity(result.assignments, TOPIC) >= 0.9
    assert [cluster.number for cluster in result.clusters] == [0, 1, 2, 3]
    sizes = [cluster.size for cluster in result.clusters]
    assert sizes == sorted(sizes, reverse=True) and sum(sizes) == len(IDEAS)


def test_same_seed_same_result():
    first, second = analyse(documents(), seed=3), analyse(documents(), seed=3)
    assert first.assignments == second.assignments
    assert [c.label for c in first.clusters] == [c.label for c in second.clusters]
    assert first.sector_suggestions == second.sector_suggestions


def test_automatic_k_stays_in_range():
    result = analyse(documents(), seed=0)
    low, high = auto_k_range(len(IDEAS))
    assert result.k_automatic and low <= result.k <= high
    assert result.parameters["clusterer"]["k_range"] == [low, high]


def test_clusters_have_short_german_labels_and_representatives_among_members(result):
    for cluster in result.clusters:
        words = cluster.label.replace(",", " ").split()
        assert 1 <= len(words) <= 4 and all(word.isalpha() or "-" in word for word in words)
        assert not {"und", "die", "der", "für", "stadt", "bitte"} & {word.lower() for word in words}
        assert 5 <= len(cluster.keywords) <= 10
        assert cluster.representative_ids == cluster.member_ids[:3]
        assert sorted(cluster.member_ids) == sorted(i for i, n in result.assignments.items() if n == cluster.number)
        assert cluster.suggested_measure_title.startswith("Maßnahme: ")
    labels = {TOPIC[cluster.member_ids[0]]: cluster.label for cluster in result.clusters}
    assert "Rad" in labels["rad"] or "Fahrr" in labels["rad"]
    assert "Solar" in labels["solar"] or "Photovoltaik" in labels["solar"]


def test_empty_texts_are_unassigned_and_listed():
    ideas = IDEAS + [("leer", None, "", ""), ("leer", None, "Bitte", "und die der Stadt Jena")]
    result = analyse(documents(ideas), k=4)
    assert result.empty_ids == [41, 42]
    assert result.assignments[41] == result.assignments[42] == -1
    assert result.sector_suggestions[41] == SectorSuggestion(None, 0.0, "zero-shot", {})
    assert all(41 not in cluster.member_ids for cluster in result.clusters)


def test_nothing_usable_at_all():
    result = analyse([Document(1, ""), Document(2, "und oder")])
    assert result.clusters == [] and result.empty_ids == [1, 2] and result.assignments == {1: -1, 2: -1}


def test_zero_shot_sectors_for_clear_ideas(result):
    for doc_id, suggestion in result.sector_suggestions.items():
        assert suggestion.method == "zero-shot" and 0.0 <= suggestion.confidence <= 1.0
        assert set(suggestion.scores) == {sector.code for sector in DEFAULT_SECTORS}
    correct = sum(result.sector_suggestions[n].code == IDEAS[n - 1][1] for n in TOPIC)
    assert correct >= 0.85 * len(IDEAS)
    for cluster in result.clusters:
        expected = IDEAS[cluster.member_ids[0] - 1][1]
        assert cluster.sector == expected and cluster.sector_confidence > 0.3
        assert sum(cluster.sector_distribution.values()) == cluster.size


def test_classifier_needs_enough_confirmed_fields():
    few = {number: IDEAS[number - 1][1] for number in range(1, 13)}
    report = analyse(documents(sectors=few), k=4).classifier
    assert not report.trained and report.cv_accuracy is None
    assert report.reason.startswith("Zu wenige bestätigte Handlungsfelder (12 von mindestens 30)")


def test_classifier_learns_staff_decisions_and_reports_cross_validation():
    # Staff file greening under the city's own administration: the classifier learns it.
    confirmed = {number: ("verwaltung" if IDEAS[number - 1][1] == "uebergreifend" else IDEAS[number - 1][1])
                 for number in range(1, 41) if number not in (1, 11, 21, 31)}
    result = analyse(documents(sectors=confirmed), k=4)
    report = result.classifier
    assert report.trained and report.training_size == 36 and report.folds == 5
    assert report.cv_accuracy > report.zero_shot_accuracy and report.cv_accuracy >= 0.8
    assert result.sector_suggestions[31].code == "verwaltung" and result.sector_suggestions[31].method == "classifier"
    assert result.sector_suggestions[1].code == "mobilitaet"
    assert result.sector_suggestions[32].confidence == 1.0 and result.sector_suggestions[32].code == "verwaltung"


def test_near_copies_are_grouped_without_chaining():
    ideas = IDEAS + [
        ("rad", "mobilitaet", "Fahrradstellplätze am Bahnhof!", "Am Bahnhof fehlen Fahrradstellplätze. Fahrräder "
         "stehen überall herum."),
        ("gruen", "uebergreifend", "Bäume, Solarparks und Radwege",
         "Mehr Bäume in der Innenstadt, die im Sommer Schatten spenden. Auch ein Solarpark an der Autobahn."),
    ]
    result = analyse(documents(ideas), k=4)
    groups = [group.ids for group in result.duplicate_groups]
    assert [2, 41] in groups
    assert all(0.0 < group.score <= 1.0 for group in result.duplicate_groups)
    # 42 resembles both 31 and 13, which have nothing in common: never one group of three.
    assert not any({31, 13} <= set(ids) for ids in groups)


def test_measures_are_matched_or_a_title_is_suggested(result):
    measures = [MeasureSpec("M-1", "Radverkehr: sichere Radwege und Fahrradstellplätze",
                            "Lücken im Radwegenetz schließen, Radwege verbreitern, Abstellplätze für Fahrräder."),
                MeasureSpec("M-2", "Digitale Verwaltung", "Anträge online stellen.")]
    matched = analyse(documents(), measures=measures, k=4)
    by_topic = {TOPIC[cluster.member_ids[0]]: cluster for cluster in matched.clusters}
    assert [match.id for match in by_topic["rad"].measure_matches][:1] == ["M-1"]
    assert by_topic["rad"].measure_matches[0].score > 0.15
    assert by_topic["gruen"].measure_matches == []
    assert by_topic["gruen"].suggested_measure_title.startswith("Maßnahme: ")


def test_extend_keeps_numbers_and_labels_and_places_new_ideas(result):
    new_ideas = [
        ("rad", "mobilitaet", "Radwege ohne Schlaglöcher", "Die Radwege brauchen eine glatte Fahrbahn für Radfahrer."),
        ("solar", "energie", "Mehr Solarparks", "Photovoltaik auf freien Flächen, Solarstrom für die Stadtwerke."),
        ("leer", None, "Bitte", "und"),
    ]
    labels = {cluster.number: cluster.label for cluster in result.clusters}
    extended = extend(documents(IDEAS + new_ideas), result.assignments, labels)
    assert all(extended.assignments[doc_id] == number for doc_id, number in result.assignments.items())
    assert {cluster.number: cluster.label for cluster in extended.clusters} == labels
    rad_cluster = result.assignments[1]
    solar_cluster = result.assignments[11]
    assert extended.assignments[41] == rad_cluster and extended.assignments[42] == solar_cluster
    assert extended.assignments[43] == -1 and extended.empty_ids == [43]
    assert extended.sector_suggestions[42].code == "energie"
    assert sum(cluster.size for cluster in extended.clusters) == 42


def test_extend_leaves_unrelated_ideas_unassigned(result):
    odd = [("x", None, "Bürgeramt am Samstag", "Die Öffnungszeiten des Bürgeramts am Samstag verlängern.")]
    as_json = {str(doc_id): number for doc_id, number in result.assignments.items()}  # keys after a JSON round trip
    extended = extend(documents(IDEAS + odd), as_json, {})
    assert all(extended.assignments[doc_id] == number for doc_id, number in result.assignments.items())
    assert extended.assignments[41] == -1
    assert all(cluster.label for cluster in extended.clusters)


def test_progress_is_reported_in_german():
    calls = []
    analyse(documents()[:12], k=2, progress=lambda fraction, message: calls.append((fraction, message)))
    fractions = [fraction for fraction, _message in calls]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert all(isinstance(message, str) and message for _fraction, message in calls)


def test_result_records_how_to_reproduce_it(result):
    assert result.version == "0.2.0" and result.seed == 0
    assert {"vectoriser", "clusterer", "sectors", "duplicate_threshold"} <= set(result.parameters)
    assert result.timings["total"] >= 0

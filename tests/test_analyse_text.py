"""German preprocessing and the TF-IDF vectors behind clustering and similar ideas."""
import numpy as np

from analyse.similar import SimilarityIndex
from analyse.text import lemma, tokenize, tokenize_one
from analyse.vectorise import SparseVectoriser


def test_lemmas_of_inflected_words_and_compounds():
    assert lemma("Bäume") == "baum" and lemma("Häuser") == "haus"
    assert lemma("Fahrradstellplätze") == "fahrradstellplatz"  # through its last part, Stellplätze
    assert lemma("Fahrrad-Stellplätze") == "fahrradstellplatz"
    assert lemma("pflanzen") == "pflanzen"  # an infinitive, not the noun Pflanze


def test_stop_words_numbers_and_addresses_are_dropped():
    tokens = tokenize_one("Die Idee der Stadt Jena: bitte 30 neue Radwege, z.B. www.jena.de, und ich finde das gut!")
    assert tokens.lemmas == ("radweg",)


def test_word_pairs_stay_within_a_phrase():
    tokens = tokenize_one("Sichere Radwege bauen. Bäume pflanzen, Dächer begrünen")
    assert "radweg bauen" in tokens.bigrams and "baum pflanzen" in tokens.bigrams
    assert "bauen baum" not in tokens.bigrams and "pflanzen dach" not in tokens.bigrams


def test_sentence_starts_are_marked_for_the_noun_guess():
    tokens = tokenize_one("Gefährliche Kreuzung. Die gefährliche Ampel")
    assert tokens.initial == (True, False, False, False)


def test_compounds_match_their_parts():
    texts = ["Mehr Fahrradstellplätze am Bahnhof", "Stellplätze für Fahrräder vor dem Bahnhof",
             "Solaranlagen auf die Dächer der Schulen", "Bäume an der Saale pflanzen"]
    matrix = SparseVectoriser().fit_transform(texts)
    similarity = (matrix @ matrix.T).toarray()
    assert similarity[0, 1] > 0.4
    assert similarity[0, 1] > 3 * max(similarity[0, 2], similarity[0, 3])


def test_vectors_are_normalised_and_transform_matches_fit():
    texts = ["Radweg an der Saale", "Photovoltaik auf Schuldächern", "Radwegenetz ausbauen"]
    vectoriser = SparseVectoriser()
    fitted = vectoriser.fit_transform(texts)
    assert np.allclose(np.asarray(fitted.multiply(fitted).sum(axis=1)).ravel(), 1.0, atol=1e-5)
    assert abs(fitted - vectoriser.transform(texts)).max() < 1e-6
    unseen = vectoriser.transform(["Radwegeplanung"])  # unknown word: still close through its n-grams
    assert (unseen @ fitted.T).toarray()[0].argmax() in (0, 2)


def test_tokenize_keeps_order_and_empty_texts():
    assert [len(tokens.lemmas) for tokens in tokenize(["Radweg", "", None, "und"])] == [1, 0, 0, 0]


def test_similar_ideas_find_compound_variants():
    index = SimilarityIndex([(1, "Stellplätze für Fahrräder am Westbahnhof"), (2, "Photovoltaik auf Schuldächer"),
                             (3, "Bäume im Paradiespark pflanzen")])
    matches = index.query("Fahrradstellplätze fehlen")
    assert [match.id for match in matches] == [1]

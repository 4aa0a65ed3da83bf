"""Short German labels for clusters: class-based TF-IDF (c-TF-IDF, as in BERTopic).

A term describes a cluster when many of its members use it and few other clusters
do. Each member counts once per term (document frequency, not word count), so one
long text cannot set the label of its cluster. Nouns (capitalised in German) name a
topic better than verbs or adjectives, which therefore count less.
"""
from collections import Counter

import numpy as np

NON_NOUN_WEIGHT = 0.4
LABEL_TERMS = 3
KEYWORDS = 8


class SurfaceForms:
    """How each lemma appears in the texts, collected from Tokens.

    Labels show the most frequent surface form ("Stadtwerke", not the lemma
    "Stadtwerk"); for a noun, the most frequent capitalised one. Whether a lemma is a
    noun is decided by its capitalisation inside sentences; at the start of a
    sentence or title every German word is capitalised.
    """

    def __init__(self):
        self._counts = {}
        self._inside = {}

    def add(self, tokens):
        for feature, surface, initial in zip(tokens.lemmas, tokens.surface, tokens.initial):
            self._counts.setdefault(feature, Counter())[surface] += 1
            if not initial:
                self._inside.setdefault(feature, Counter())[surface[:1].isupper()] += 1

    def written(self, feature):
        counts = self._counts.get(feature)
        if not counts:
            return feature
        if self.is_noun(feature):
            counts = Counter({form: number for form, number in counts.items() if form[:1].isupper()}) or counts
        return min(counts, key=lambda form: (-counts[form], form))

    def is_noun(self, feature):
        inside = self._inside.get(feature)
        if inside:
            return inside[True] > inside[False]
        counts = self._counts.get(feature, Counter())
        return any(form[:1].isupper() for form in counts)


def cluster_keywords(tokens, labels, k, forms, top=KEYWORDS):
    """For each cluster 0..k-1, its top terms by c-TF-IDF, as written (best first)."""
    frequency = [Counter() for _ in range(k)]
    for item, label in zip(tokens, labels):
        if label >= 0:
            frequency[label].update(set(item.lemmas))
    overall = Counter()
    for counts in frequency:
        overall.update(counts)
    sizes = [sum(counts.values()) for counts in frequency]
    average = float(np.mean([size for size in sizes if size])) if any(sizes) else 1.0
    keywords = []
    for counts, size in zip(frequency, sizes):
        scores = {}
        for term, number in counts.items():
            weight = 1.0 if forms.is_noun(term) else NON_NOUN_WEIGHT
            scores[term] = weight * number / size * np.log(1 + average / overall[term])
        # Terms of a single member describe that member, not the cluster: they come last.
        ranked = sorted(scores, key=lambda term: (counts[term] < 2, -scores[term], term))
        keywords.append([forms.written(term) for term in _distinct(ranked, top)])
    return keywords


def _distinct(terms, limit):
    """The first `limit` terms that neither begin nor end with a better one, nor it with them.

    Keeps the label from saying the same twice: Radweg and Radwegenetz, Baum and Straßenbaum.
    """
    chosen = []
    for term in terms:
        if not any(_overlap(term, other) for other in chosen):
            chosen.append(term)
            if len(chosen) == limit:
                break
    return chosen


def _overlap(first, second):
    short, long = sorted((first, second), key=len)
    return long.startswith(short) or long.endswith(short)


def label_from_keywords(keywords, count=LABEL_TERMS):
    """A label of two to four words: the first keywords, "Radweg, Ampel, Kreuzung"."""
    return ", ".join(keywords[:count]) if keywords else "Ohne Schlagworte"


def measure_title(keywords):
    """A draft title for a new measure from a cluster's keywords."""
    if not keywords:
        return "Maßnahme: Ideen ohne gemeinsames Thema"
    if len(keywords) == 1:
        return f"Maßnahme: {keywords[0]}"
    named = keywords[:3]
    return f"Maßnahme: {', '.join(named[:-1])} und {named[-1]}"

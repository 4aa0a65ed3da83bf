"""Which existing measures a cluster of ideas speaks to.

A measure is compared by its title (counted twice) and description with the mean
vector of the cluster's ideas, in the TF-IDF space fitted on the ideas. The mean of
a cluster is less peaked than a single idea, so the threshold is lower than for
similar ideas.
"""
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

MIN_SCORE = 0.25
TOP = 3


@dataclass(frozen=True)
class MeasureSpec:
    id: object
    title: str
    description: str = ""


@dataclass
class MeasureMatch:
    id: object
    title: str
    score: float


def measure_text(measure):
    return f"{measure.title}\n{measure.title}\n{measure.description}"


def cluster_centroids(matrix, labels, k):
    """Normalised mean TF-IDF vector of each cluster 0..k-1 (sparse rows)."""
    labels = np.asarray(labels)
    rows = np.flatnonzero(labels >= 0)
    membership = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (labels[rows], rows)),
                               shape=(k, matrix.shape[0]))
    return normalize(membership @ matrix)


def match_measures(centroids, measures, vectoriser, min_score=MIN_SCORE, top=TOP):
    """For each centroid row, up to `top` MeasureMatches above `min_score`, best first."""
    measures = list(measures)
    if not measures:
        return [[] for _ in range(centroids.shape[0])]
    vectors = vectoriser.transform([measure_text(measure) for measure in measures])
    similarity = np.asarray((centroids @ vectors.T).todense())
    matches = []
    for row in similarity:
        order = np.argsort(-row, kind="stable")[:top]
        matches.append([MeasureMatch(measures[index].id, measures[index].title, round(float(row[index]), 3))
                        for index in order if row[index] >= min_score])
    return matches

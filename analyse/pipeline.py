"""The whole analysis of a collection of ideas in one call: `analyse()`, and `extend()` for new ideas.

Steps: German lemmas (text.py) -> TF-IDF of lemmas and character n-grams
(vectorise.py) -> LSA and k-means with automatic k (cluster.py) -> labels from
c-TF-IDF (labels.py) -> fields of action, zero-shot or learned from staff decisions
(sectors.py) -> near-duplicate groups (duplicates.py) -> matching measures
(measures.py). Everything is deterministic for the same input and seed.

Title and text are both used; the title is counted twice because it usually names
the topic in a few words.
"""
import time
from collections import Counter
from dataclasses import dataclass
from importlib.metadata import version as package_version

import numpy as np
import scipy.sparse as sp

from . import __version__
from .cluster import LsaKMeans, centroids, lsa
from .duplicates import THRESHOLD as DUPLICATE_THRESHOLD
from .duplicates import duplicate_groups
from .labels import SurfaceForms, cluster_keywords, label_from_keywords, measure_title
from .measures import MIN_SCORE as MEASURE_MIN_SCORE
from .measures import MeasureMatch, MeasureSpec, cluster_centroids, match_measures
from .sectors import (DEFAULT_SECTORS, MIN_CONFIRMED, MIN_PER_CLASS, ClassifierReport, SectorClassifier, SectorSpec,
                      ZeroShotSectors)
from .text import tokenize
from .vectorise import SparseVectoriser

__all__ = [
    "Document", "SectorSpec", "DEFAULT_SECTORS", "MeasureSpec", "SectorSuggestion", "MeasureMatch", "Cluster",
    "ClassifierReport", "DuplicateGroup", "AnalysisResult", "analyse", "extend",
]

TITLE_REPEAT = 2
# extend(): a new idea joins the nearest cluster when it is at least as close to its
# centre as the loosest tenth of the cluster's members, and never below JOIN_FLOOR.
JOIN_QUANTILE = 0.1
JOIN_FLOOR = 0.25


@dataclass(frozen=True)
class Document:
    id: object
    text: str
    title: str = ""
    sector: str | None = None  # staff-confirmed field of action, trains the classifier


@dataclass
class SectorSuggestion:
    code: str | None  # None when the idea has no usable words
    confidence: float  # 0..1; 1.0 for a field staff confirmed
    method: str  # "zero-shot" or "classifier"
    scores: dict  # code -> share, for display


@dataclass
class Cluster:
    number: int
    label: str
    size: int
    member_ids: list  # closest to the centre first
    representative_ids: list
    sector_distribution: dict  # suggested code -> number of members
    sector: str | None
    sector_confidence: float
    measure_matches: list
    suggested_measure_title: str
    keywords: list


@dataclass
class DuplicateGroup:
    ids: list  # first = earliest in the input
    score: float  # lowest similarity of two members


@dataclass
class AnalysisResult:
    clusters: list
    assignments: dict  # doc id -> cluster number, -1 for empty or unassigned
    sector_suggestions: dict
    classifier: ClassifierReport
    duplicate_groups: list
    empty_ids: list
    k: int
    k_automatic: bool
    seed: int
    parameters: dict
    version: str
    timings: dict


class _Steps:
    """Timings per step and the progress callback."""

    def __init__(self, progress, total_steps):
        self.progress = progress
        self.total = total_steps
        self.done = 0
        self.timings = {}
        self.started = self.last = time.perf_counter()

    def start(self, message):
        if self.progress is not None:
            self.progress(min(self.done / self.total, 1.0), message)
        self.done += 1

    def finish(self, name):
        now = time.perf_counter()
        self.timings[name] = round(now - self.last, 3)
        self.last = now

    def end(self):
        self.timings["total"] = round(time.perf_counter() - self.started, 3)
        if self.progress is not None:
            self.progress(1.0, "Analyse abgeschlossen.")


def document_text(document):
    """The text analysed for a document: the title TITLE_REPEAT times, then the text."""
    title = (document.title or "").strip()
    return "\n".join([title] * TITLE_REPEAT + [document.text or ""]) if title else (document.text or "")


class _Prepared:
    """Tokens and TF-IDF vectors of the usable documents of a collection."""

    def __init__(self, documents, steps):
        self.documents = list(documents)
        if len({document.id for document in self.documents}) != len(self.documents):
            raise ValueError("document ids must be unique")
        steps.start("Texte werden zerlegt und auf Grundformen gebracht …")
        tokens = tokenize([document_text(document) for document in self.documents])
        self.usable = [index for index, item in enumerate(tokens) if item.lemmas]
        self.tokens = [tokens[index] for index in self.usable]
        self.empty_ids = [self.documents[index].id for index, item in enumerate(tokens) if not item.lemmas]
        self.forms = SurfaceForms()
        for item in self.tokens:
            self.forms.add(item)
        steps.finish("tokenise")
        steps.start("Texte werden in Vektoren umgewandelt …")
        self.vectoriser = SparseVectoriser()
        self.matrix = self.vectoriser.fit_transform_tokens(self.tokens) if self.tokens else None
        steps.finish("vectorise")

    @property
    def ids(self):
        return [self.documents[index].id for index in self.usable]


def analyse(documents, *, sectors=DEFAULT_SECTORS, measures=(), k="auto", seed=0, progress=None):
    """Cluster, label, sort into fields of action, find duplicates and matching measures.

    documents: iterable of Document with unique ids. k: "auto" (see cluster.auto_k)
    or a number of clusters. progress:
    optional callable progress(fraction 0..1, German message), called at each step.
    Ideas whose title and text have no content word get cluster -1, appear in
    empty_ids and get SectorSuggestion(None, 0.0, "zero-shot", {}). Ideas with a
    staff-confirmed sector keep it as their suggestion (confidence 1.0); the
    confirmations train the classifier (sectors.SectorClassifier).
    """
    steps = _Steps(progress, 7)
    prepared = _Prepared(documents, steps)
    if not prepared.tokens:
        return _empty_result(prepared, sectors, k, seed, steps)
    steps.start("Ideen werden gruppiert …")
    clusterer = LsaKMeans(k=k, seed=seed).fit(prepared.matrix)
    labels, k_found = _renumber(clusterer.labels_, clusterer.k_)
    steps.finish("cluster")
    result = _finish(prepared, clusterer.embedding_, labels, k_found, {}, sectors, measures, seed, steps)
    result.k, result.k_automatic = k_found, clusterer.k_automatic_
    result.parameters["clusterer"] = clusterer.get_params()
    return result


def extend(documents, previous_assignments, previous_labels, *, sectors=DEFAULT_SECTORS, measures=(), seed=0,
           progress=None):
    """Add new ideas to an earlier analysis without renumbering it.

    documents: all current documents. Documents with a cluster number >= 0 in
    previous_assignments keep it; the others (new, or unassigned before) join the
    nearest cluster when they are close enough to its centre, else get -1. Labels
    in previous_labels (number -> label) are kept; sizes, representatives, fields
    of action, duplicates and measures are computed afresh.
    """
    steps = _Steps(progress, 7)
    prepared = _Prepared(documents, steps)
    if not prepared.tokens:
        return _empty_result(prepared, sectors, 0, seed, steps)
    steps.start("Neue Ideen werden den Gruppen zugeordnet …")
    embedding = lsa(prepared.matrix, seed=seed)
    previous = np.array([_number(_previous(previous_assignments, doc_id)) for doc_id in prepared.ids], dtype=int)
    labels = _join_nearest(prepared.matrix, previous)
    steps.finish("cluster")
    fixed_labels = {_number(number): label for number, label in (previous_labels or {}).items()}
    result = _finish(prepared, embedding, labels, int(labels.max()) + 1 if (labels >= 0).any() else 0,
                     fixed_labels, sectors, measures, seed, steps)
    result.k, result.k_automatic = len(result.clusters), False
    result.parameters["extend"] = {"join_quantile": JOIN_QUANTILE, "join_floor": JOIN_FLOOR,
                                   "new_ids": [doc_id for doc_id, old in zip(prepared.ids, previous) if old < 0]}
    return result


def _previous(assignments, doc_id):
    """The earlier cluster number of a document; the keys may have become strings in JSON."""
    return assignments.get(doc_id, assignments.get(str(doc_id)))


def _number(value):
    """A cluster number from an earlier run (int, or str after a JSON round trip); -1 when missing."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _join_nearest(matrix, previous):
    """Cluster numbers: the previous ones, and for the others the nearest cluster close enough, or -1.

    Compared in the TF-IDF space, not the LSA space: the SVD of the new collection may
    project an idea on an unrelated topic onto a tiny vector, whose direction (all
    that counts after normalising) says nothing.
    """
    labels = previous.copy()
    known = previous >= 0
    if not known.any() or known.all():
        return labels
    k = int(previous.max()) + 1
    centres = cluster_centroids(matrix, np.where(known, previous, -1), k)
    member_similarity = _leave_one_out_similarity(matrix[known], previous[known], k)
    limits = np.full(k, JOIN_FLOOR)
    for number in range(k):
        own = member_similarity[previous[known] == number]
        if len(own):
            limits[number] = max(JOIN_FLOOR, float(np.quantile(own, JOIN_QUANTILE)))
    new = np.flatnonzero(~known)
    similarity = np.asarray((matrix[new] @ centres.T).todense())
    nearest = similarity.argmax(axis=1)
    close = similarity[np.arange(len(new)), nearest] >= limits[nearest]
    labels[new[close]] = nearest[close]
    return labels


def _leave_one_out_similarity(matrix, labels, k):
    """Each member's cosine to the centroid of the other members of its cluster.

    A new idea is not part of the centroid it is compared with; a member is, which
    lifts its similarity (much so in small clusters). Leaving the member out makes the
    two comparable: with the sum S of a cluster's unit vectors, the others' direction
    is S - x, and cos = (x.S - 1) / |S - x| with |S - x|^2 = |S|^2 - 2 x.S + 1.
    """
    membership = sp.csr_matrix((np.ones(len(labels), dtype=np.float32), (labels, np.arange(len(labels)))),
                               shape=(k, matrix.shape[0]))
    sums = (membership @ matrix).tocsr()
    own_sum = sums[labels]
    dot = np.asarray(matrix.multiply(own_sum).sum(axis=1)).ravel()
    squared = np.asarray(own_sum.multiply(own_sum).sum(axis=1)).ravel()
    rest = np.sqrt(np.maximum(squared - 2 * dot + 1, 0))
    return np.where(rest > 1e-6, (dot - 1) / np.maximum(rest, 1e-6), 0.0)


def _renumber(labels, k):
    """Cluster numbers ordered by size (largest first), then by the position of the first member."""
    sizes = np.bincount(labels, minlength=k)
    first = np.full(k, len(labels))
    for position, label in enumerate(labels):
        first[label] = min(first[label], position)
    order = sorted(range(k), key=lambda number: (-sizes[number], first[number]))
    order = [number for number in order if sizes[number] > 0]
    mapping = np.full(k, -1)
    mapping[order] = np.arange(len(order))
    return mapping[labels], len(order)


def _finish(prepared, embedding, labels, k, fixed_labels, sectors, measures, seed, steps):
    """Everything after the clustering, shared by analyse() and extend()."""
    ids = prepared.ids
    matrix = prepared.matrix
    steps.start("Handlungsfelder werden vorgeschlagen …")
    suggestions, report, sector_params = _suggest_sectors(prepared, sectors, seed)
    steps.finish("sectors")
    steps.start("Doppelte Ideen werden gesucht …")
    groups = [DuplicateGroup([ids[row] for row in rows], score)
              for rows, score in duplicate_groups(matrix, embedding)]
    steps.finish("duplicates")
    steps.start("Gruppen werden beschriftet …")
    keywords = cluster_keywords(prepared.tokens, labels, k, prepared.forms)
    steps.finish("labels")
    steps.start("Passende Maßnahmen werden gesucht …")
    matches = match_measures(cluster_centroids(matrix, labels, k), measures, prepared.vectoriser)
    centres = centroids(embedding, np.maximum(labels, 0), k) if k else None
    clusters = []
    for number in range(k):
        rows = np.flatnonzero(labels == number)
        if len(rows) == 0:
            continue
        closeness = embedding[rows] @ centres[number]
        rows = rows[np.argsort(-closeness, kind="stable")]
        member_ids = [ids[row] for row in rows]
        member_suggestions = [suggestions[doc_id] for doc_id in member_ids]
        sector, confidence = _cluster_sector(member_suggestions, sectors)
        label = fixed_labels.get(number) or label_from_keywords(keywords[number])
        clusters.append(Cluster(
            number=number, label=label, size=len(rows), member_ids=member_ids, representative_ids=member_ids[:3],
            sector_distribution=dict(Counter(item.code for item in member_suggestions).most_common()),
            sector=sector, sector_confidence=confidence, measure_matches=matches[number],
            suggested_measure_title=measure_title(keywords[number]), keywords=keywords[number]))
    steps.finish("measures")
    assignments = {document.id: -1 for document in prepared.documents}
    assignments.update({doc_id: int(label) for doc_id, label in zip(ids, labels)})
    for doc_id in prepared.empty_ids:
        suggestions[doc_id] = SectorSuggestion(None, 0.0, "zero-shot", {})
    steps.end()
    return AnalysisResult(
        clusters=clusters, assignments=assignments,
        sector_suggestions={document.id: suggestions[document.id] for document in prepared.documents},
        classifier=report, duplicate_groups=groups, empty_ids=prepared.empty_ids, k=k, k_automatic=False,
        seed=seed, parameters=_parameters(prepared, sector_params, seed), version=__version__,
        timings=steps.timings)


def _suggest_sectors(prepared, sectors, seed):
    """SectorSuggestion per usable document id, the ClassifierReport, and the parameters used."""
    sectors = tuple(sectors)
    codes = [sector.code for sector in sectors]
    zero_shot = ZeroShotSectors(sectors).fit(prepared.matrix, prepared.vectoriser)
    shares = zero_shot.predict_proba(prepared.matrix)
    index_of = {code: index for index, code in enumerate(codes)}
    confirmed = [prepared.documents[row].sector for row in prepared.usable]
    targets = np.array([index_of.get(code, -1) if code else -1 for code in confirmed])
    classifier = SectorClassifier(seed=seed)
    report = classifier.fit(prepared.matrix, shares, targets, zero_shot)
    method = "zero-shot"
    if report.trained:
        shares = classifier.predict_proba(prepared.matrix, shares)
        method = "classifier"
    suggestions = {}
    for doc_id, row, target in zip(prepared.ids, shares, targets):
        scores = {code: round(float(value), 3) for code, value in zip(codes, row)}
        if target >= 0:
            suggestions[doc_id] = SectorSuggestion(codes[target], 1.0, method, scores)
        else:
            best = int(row.argmax())
            suggestions[doc_id] = SectorSuggestion(codes[best], round(float(row[best]), 3), method, scores)
    parameters = {"codes": codes, "zero_shot": zero_shot.get_params(), "classifier_min_confirmed": MIN_CONFIRMED,
                  "classifier_min_per_class": MIN_PER_CLASS, "method": method}
    return suggestions, report, parameters


def _cluster_sector(member_suggestions, sectors):
    """The field with the highest mean share among the members, and that mean share."""
    totals = Counter()
    for suggestion in member_suggestions:
        totals.update(suggestion.scores)
    best = None
    for sector in sectors:  # in the order of the fields, so that ties go to the first
        if totals[sector.code] > 0 and (best is None or totals[sector.code] > totals[best]):
            best = sector.code
    if best is None:
        return None, 0.0
    return best, round(totals[best] / len(member_suggestions), 3)


def _parameters(prepared, sector_params, seed):
    return {
        "seed": seed, "title_repeat": TITLE_REPEAT, "vectoriser": prepared.vectoriser.get_params(),
        "sectors": sector_params, "duplicate_threshold": DUPLICATE_THRESHOLD,
        "measure_min_score": MEASURE_MIN_SCORE, "spacy": package_version("spacy"),
        "scikit-learn": package_version("scikit-learn"), "documents": len(prepared.documents), "empty": len(prepared.empty_ids),
    }


def _empty_result(prepared, sectors, k, seed, steps):
    """The result for a collection without a single usable word."""
    steps.end()
    return AnalysisResult(
        clusters=[], assignments={document.id: -1 for document in prepared.documents},
        sector_suggestions={document.id: SectorSuggestion(None, 0.0, "zero-shot", {})
                            for document in prepared.documents},
        classifier=ClassifierReport(False, 0, None, 0, "Keine Ideen mit verwertbaren Wörtern."),
        duplicate_groups=[], empty_ids=list(prepared.empty_ids), k=0, k_automatic=k == "auto", seed=seed,
        parameters={"seed": seed, "documents": len(prepared.documents), "empty": len(prepared.empty_ids)},
        version=__version__, timings=steps.timings)

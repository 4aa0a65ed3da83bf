"""Groups of near-duplicate ideas: the same suggestion written twice, or copied and changed a little.

Candidates come from the LSA vectors (dense, about a hundred numbers per idea),
compared in blocks of rows so that memory stays linear in the number of ideas; for
each idea only its closest NEIGHBOURS are kept. Each candidate pair is then checked on
the full TF-IDF vectors. Groups are formed with complete linkage: an idea joins a
group only when it is similar enough to every idea in it, so a chain A~B, B~C does not
put unrelated A and C together.
"""
import numpy as np
import scipy.sparse as sp
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse.csgraph import connected_components
from scipy.spatial.distance import squareform
from sklearn.cluster import KMeans

THRESHOLD = 0.45
# A candidate's LSA similarity may be this much below THRESHOLD. The LSA similarity of
# near-duplicates is nearly always higher than their TF-IDF similarity (99.7 % of the
# pairs above THRESHOLD in the CIMT corpus are above it in LSA too).
CANDIDATE_MARGIN = 0.05
NEIGHBOURS = 10
PAIR_BLOCK = 5_000  # pairs checked at once; bounds the memory of the row gathers (~40 MB)
MAX_COMPONENT = 2_000  # rows compared all with all: 16 MB of similarities, 16 MB of distances
BLOCK_CELLS = 8_000_000  # similarities computed at once: 32 MB as float32


def candidate_pairs(embedding, minimum, neighbours=NEIGHBOURS):
    """Pairs (i < j) whose embedding cosine is at least `minimum`, for each i its `neighbours` best j.

    Only the upper triangle is computed (j > i), in blocks of rows.
    """
    count = embedding.shape[0]
    block = max(16, BLOCK_CELLS // max(count, 1))
    firsts, seconds = [], []
    for start in range(0, count, block):
        stop = min(start + block, count)
        similarity = embedding[start:stop] @ embedding[start:].T
        similarity[np.tril_indices(stop - start, 0, similarity.shape[1])] = -1.0  # j <= i
        rows, columns = np.nonzero(similarity >= minimum)
        if len(rows) == 0:
            continue
        scores = similarity[rows, columns]
        order = np.lexsort((-scores, rows))  # by row, best first
        rows, columns = rows[order], columns[order]
        rank = np.arange(len(rows)) - np.searchsorted(rows, rows)
        keep = rank < neighbours
        firsts.append(rows[keep] + start)
        seconds.append(columns[keep] + start)
    if not firsts:
        return np.empty((0, 2), dtype=np.int64)
    return np.column_stack([np.concatenate(firsts), np.concatenate(seconds)]).astype(np.int64)


def pair_scores(matrix, pairs):
    """Exact cosine of the (normalised) sparse rows of each pair."""
    scores = [np.asarray(matrix[block[:, 0]].multiply(matrix[block[:, 1]]).sum(axis=1)).ravel()
              for block in (pairs[start:start + PAIR_BLOCK] for start in range(0, len(pairs), PAIR_BLOCK))]
    return np.concatenate(scores) if scores else np.empty(0)


def duplicate_groups(matrix, embedding, threshold=THRESHOLD, seed=0):
    """Groups of row indices (each ascending), with the lowest pairwise similarity in each.

    Pairs above the threshold link rows into connected components; within each
    component, complete linkage on the exact similarities of all its pairs forms the
    groups. Components larger than MAX_COMPONENT are first split in two by k-means on
    the embedding (near-duplicates stay together), until they fit. Returns
    [(rows, score)] ordered by the first row.
    """
    pairs = candidate_pairs(embedding, threshold - CANDIDATE_MARGIN)
    pairs = pairs[pair_scores(matrix, pairs) >= threshold]
    count = matrix.shape[0]
    graph = sp.csr_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(count, count))
    _count, component = connected_components(graph, directed=False)
    sizes = np.bincount(component)
    result = []
    for label in np.flatnonzero(sizes > 1):
        for rows in _pieces(np.flatnonzero(component == label), embedding, seed):
            result.extend(_complete_linkage(matrix, rows, threshold))
    return sorted(result, key=lambda item: item[0][0])


def _pieces(rows, embedding, seed):
    """`rows` split by 2-means on the embedding until each piece has at most MAX_COMPONENT rows."""
    if len(rows) <= MAX_COMPONENT:
        return [rows]
    halves = KMeans(2, n_init=1, random_state=seed).fit_predict(embedding[rows])
    if halves.min() == halves.max():
        return [rows[:MAX_COMPONENT], rows[MAX_COMPONENT:]]
    return _pieces(rows[halves == 0], embedding, seed) + _pieces(rows[halves == 1], embedding, seed)


def _complete_linkage(matrix, rows, threshold):
    """Groups of `rows` in which every pair is at least `threshold` similar: [(rows, lowest score)]."""
    if len(rows) < 2:
        return []
    subset = matrix[rows]
    similarity = np.empty((len(rows), len(rows)), dtype=np.float32)
    for start in range(0, len(rows), 256):
        similarity[start:start + 256] = (subset[start:start + 256] @ subset.T).toarray()
    np.fill_diagonal(similarity, 1.0)
    distance = 1.0 - similarity
    np.clip(distance, 0.0, 2.0, out=distance)
    distance = squareform(distance, checks=False)
    labels = fcluster(linkage(distance, method="complete"), t=1.0 - threshold + 1e-6, criterion="distance")
    groups = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        if len(members) > 1:
            lowest = similarity[np.ix_(members, members)].min()
            groups.append(([int(row) for row in rows[members]], round(float(lowest), 3)))
    return groups

"""Similar texts: "has someone already suggested this?" while a citizen writes.

`SimilarityIndex` is built once from (id, text) pairs and answers queries for a new
text in milliseconds. It uses the same vectors as the analysis (German lemmas and
character n-grams, see vectorise.py), so "Fahrradstellplätze" finds "Stellplätze
für Fahrräder". The matrix is kept transposed (features x texts): a query then
only touches the texts that share one of its features.
"""
from dataclasses import dataclass

import numpy as np

from .text import tokenize, tokenize_one
from .vectorise import SparseVectoriser

# Two texts about different things still share some character n-grams; below this
# cosine a match is noise.
MIN_SCORE = 0.2


def analyse_text(text):
    """The terms of a text as the index sees them: content lemmas, then neighbouring lemma pairs."""
    tokens = tokenize_one(text)
    return list(tokens.lemmas + tokens.bigrams)


@dataclass(frozen=True)
class Match:
    id: object
    score: float


class SimilarityIndex:
    """Nearest texts by cosine similarity of the combined TF-IDF vectors."""

    def __init__(self, documents, min_score=MIN_SCORE):
        documents = [(doc_id, text) for doc_id, text in documents if (text or "").strip()]
        tokens = tokenize(text for _id, text in documents)
        kept = [index for index, item in enumerate(tokens) if item.lemmas]
        self.ids = [documents[index][0] for index in kept]
        self.min_score = min_score
        self._vectoriser = None
        self._by_feature = None
        if kept:
            self._vectoriser = SparseVectoriser()
            matrix = self._vectoriser.fit_transform_tokens([tokens[index] for index in kept])
            self._by_feature = matrix.T.tocsr()

    def __len__(self):
        return len(self.ids)

    def query(self, text, limit=5, exclude=()):
        """Up to `limit` Matches for `text`, best first, above the minimum score."""
        if self._vectoriser is None:
            return []
        tokens = tokenize_one(text)
        if not tokens.lemmas:
            return []
        vector = self._vectoriser.transform_tokens([tokens])
        scores = (vector @ self._by_feature).toarray().ravel()
        candidates = np.flatnonzero(scores >= self.min_score)
        excluded = set(exclude)
        wanted = limit + len(excluded)
        if len(candidates) > wanted:
            candidates = candidates[np.argpartition(-scores[candidates], wanted - 1)[:wanted]]
        candidates = candidates[np.lexsort((candidates, -scores[candidates]))]
        matches = [Match(self.ids[position], round(float(scores[position]), 3)) for position in candidates
                   if self.ids[position] not in excluded]
        return matches[:limit]

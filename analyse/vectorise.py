"""Texts to vectors: every vectoriser has fit_transform(texts) and transform(texts).

The default, `SparseVectoriser`, joins two TF-IDF views of the same lemmas:
- words: lemmas and neighbouring lemma pairs, which carry the topic precisely;
- character n-grams (3-5 letters, within each lemma, padded by a space as in
  scikit-learn's "char_wb"), which let the parts of German compounds match:
  "Fahrradstellplatz" shares "stell", "platz", "fahrr" with "Stellplatz für Fahrrad".
Each view is weighted like scikit-learn's TfidfTransformer (sublinear tf, smooth idf)
and L2-normalised on its own; the two are weighted and stacked, so the cosine of two
combined vectors is the weighted mean of the two cosines.

The counts of both views come from one sparse product: (texts x [lemmas, pairs]) @
([lemmas, pairs] x [lemmas, pairs, n-grams]), where the lemma rows of the right
matrix hold the lemma itself and its n-grams. Each distinct lemma is cut into n-grams
once, and the combined matrix is allocated once and weighted in place; at 50,000
texts that halves the peak memory of stacking separate TF-IDF matrices.
"""
from collections import Counter
from typing import Protocol

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer

from .text import tokenize

ROW_BLOCK = 4096  # rows weighted at once, to bound temporary arrays


class Vectoriser(Protocol):
    """What the pipeline needs from a vectoriser; rows of the result are L2-normalised."""

    def fit_transform(self, texts): ...

    def transform(self, texts): ...


# First parts of compounds that say nothing about the topic in a city's participation:
# "Stadtbaum" is about trees, "Stadtverwaltung" about the administration. Their n-grams
# would make the two look alike, so the n-grams are cut from the rest of the word.
COMPOUND_MODIFIERS = ("stadt", "jena")
MIN_REST = 4


def topic_part(lemma):
    """The lemma without a leading COMPOUND_MODIFIER, if enough of it is left."""
    for modifier in COMPOUND_MODIFIERS:
        if lemma.startswith(modifier) and len(lemma) - len(modifier) >= MIN_REST:
            return lemma[len(modifier):]
    return lemma


def char_ngrams(lemma, low=3, high=5):
    """Character n-grams of one lemma padded with spaces."""
    padded = f" {topic_part(lemma)} "
    grams = []
    for size in range(low, high + 1):
        grams.extend(padded[start:start + size] for start in range(len(padded) - size + 1))
    return tuple(grams) or (padded,)


def _lemmas(tokens):
    return tokens.lemmas


def _bigrams(tokens):
    return tokens.bigrams


class SparseVectoriser:
    """TF-IDF over lemmas (+ pairs) and over character n-grams of the lemmas, combined.

    word_weight and char_weight are the shares of the two cosines in the combined
    cosine (normalised to sum to one). Character n-grams whose lemmas occur in fewer
    than `char_min_df` texts are dropped when there are at least 50 texts: they cannot
    make two texts similar and only cost memory. Learned: `lemmas_` and `bigrams_`
    (CountVectorizers), `ngram_vocabulary_`, `expand_` (the right matrix of the
    product), `word_features_` (columns of the word view), `idf_`.
    """

    def __init__(self, word_weight=0.5, char_weight=0.5, ngram_range=(3, 5), bigrams=True, char_min_df=2):
        self.word_weight = word_weight
        self.char_weight = char_weight
        self.ngram_range = ngram_range
        self.bigrams = bigrams
        self.char_min_df = char_min_df

    def get_params(self):
        return {"vectoriser": "sparse tf-idf", "word_weight": self.word_weight, "char_weight": self.char_weight,
                "char_ngram_range": list(self.ngram_range), "bigrams": self.bigrams,
                "char_min_df": self.char_min_df, "sublinear_tf": True, "smooth_idf": True}

    def fit_transform(self, texts):
        return self.fit_transform_tokens(tokenize(texts))

    def transform(self, texts):
        return self.transform_tokens(tokenize(texts))

    def fit_transform_tokens(self, tokens):
        """Like fit_transform, for texts already run through `text.tokenize`."""
        tokens = list(tokens)
        if not any(item.lemmas for item in tokens):
            raise ValueError("no content words in any text")
        self.lemmas_ = CountVectorizer(analyzer=_lemmas, dtype=np.float32)
        words = self.lemmas_.fit_transform(tokens)
        lemma_ngrams = self._fit_ngrams(words, len(tokens))
        self.bigrams_ = None
        if self.bigrams and any(item.bigrams for item in tokens):
            self.bigrams_ = CountVectorizer(analyzer=_bigrams, dtype=np.float32)
            words = sp.hstack([words, self.bigrams_.fit_transform(tokens)], format="csr")
        self.word_features_ = words.shape[1]
        lemmas = lemma_ngrams.shape[0]
        pairs = sp.csr_matrix((self.word_features_ - lemmas, lemma_ngrams.shape[1]), dtype=np.float32)
        self.expand_ = sp.hstack([sp.identity(self.word_features_, dtype=np.float32, format="csr"),
                                  sp.vstack([lemma_ngrams, pairs])], format="csr")
        counts = (words @ self.expand_).tocsr()
        del words
        frequency = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float32)
        self.idf_ = np.log((1 + len(tokens)) / (1 + frequency)) + np.float32(1)
        return self._weigh(counts)

    def _fit_ngrams(self, unigrams, count):
        """The (lemmas x n-grams) count matrix; learns the n-gram vocabulary.

        N-grams whose lemmas occur in fewer than `char_min_df` texts together are dropped
        here, before the large (texts x n-grams) matrix is built.
        """
        low, high = self.ngram_range
        vocabulary = {}
        data, indices, indptr = [], [], [0]
        for lemma in self.lemmas_.get_feature_names_out():
            for gram, number in Counter(char_ngrams(lemma, low, high)).items():
                indices.append(vocabulary.setdefault(gram, len(vocabulary)))
                data.append(number)
            indptr.append(len(indices))
        lemma_ngrams = sp.csr_matrix((np.array(data, dtype=np.float32), np.array(indices, dtype=np.int32), indptr),
                                     shape=(len(indptr) - 1, len(vocabulary)))
        names = np.empty(len(vocabulary), dtype=object)
        for gram, column in vocabulary.items():
            names[column] = gram
        if count >= 50 and self.char_min_df > 1:
            lemma_frequency = np.bincount(unigrams.indices, minlength=unigrams.shape[1]).astype(np.float32)
            contains = lemma_ngrams.copy()
            contains.data[:] = 1.0
            keep = np.flatnonzero(contains.T @ lemma_frequency >= self.char_min_df)
            lemma_ngrams = lemma_ngrams[:, keep]
            names = names[keep]
        self.ngram_vocabulary_ = {gram: column for column, gram in enumerate(names)}
        return lemma_ngrams

    def transform_tokens(self, tokens):
        """Vectors for new texts in the fitted space; unknown lemmas still count through their n-grams."""
        tokens = list(tokens)
        words = self.lemmas_.transform(tokens)
        if self.bigrams_ is not None:
            words = sp.hstack([words, self.bigrams_.transform(tokens)], format="csr")
        counts = (words @ self.expand_).tocsr()
        unknown = self._unknown_ngram_counts(tokens)
        if unknown.nnz:
            counts = (counts + unknown).tocsr()
        return self._weigh(counts)

    def _unknown_ngram_counts(self, tokens):
        """N-gram counts of the lemmas the vocabulary does not know, in the combined columns."""
        low, high = self.ngram_range
        known, ngrams, offset = self.lemmas_.vocabulary_, self.ngram_vocabulary_, self.word_features_
        data, indices, indptr = [], [], [0]
        for item in tokens:
            row = Counter()
            for lemma in item.lemmas:
                if lemma not in known:
                    row.update(offset + ngrams[gram] for gram in char_ngrams(lemma, low, high) if gram in ngrams)
            indices.extend(row)
            data.extend(row.values())
            indptr.append(len(indices))
        return sp.csr_matrix((np.array(data, dtype=np.float32), np.array(indices, dtype=np.int32), indptr),
                             shape=(len(tokens), self.expand_.shape[1]))

    def _weigh(self, counts):
        """Counts to weighted, normalised vectors, in place, a block of rows at a time."""
        total = self.word_weight + self.char_weight
        word_share = np.float32(np.sqrt(self.word_weight / total))
        char_share = np.float32(np.sqrt(self.char_weight / total))
        counts.sort_indices()
        for start in range(0, counts.shape[0], ROW_BLOCK):
            stop = min(start + ROW_BLOCK, counts.shape[0])
            low, high = counts.indptr[start], counts.indptr[stop]
            values, columns = counts.data[low:high], counts.indices[low:high]
            np.log(values, out=values)
            values += 1
            values *= self.idf_[columns]
            row = np.repeat(np.arange(stop - start), np.diff(counts.indptr[start:stop + 1]))
            is_word = columns < self.word_features_
            word_norm = np.sqrt(np.bincount(row[is_word], values[is_word] ** 2, minlength=stop - start))
            char_norm = np.sqrt(np.bincount(row[~is_word], values[~is_word] ** 2, minlength=stop - start))
            present = (word_norm > 0) * word_share ** 2 + (char_norm > 0) * char_share ** 2
            scale_word = np.divide(word_share, word_norm * np.sqrt(present), out=np.zeros_like(word_norm),
                                   where=word_norm > 0)
            scale_char = np.divide(char_share, char_norm * np.sqrt(present), out=np.zeros_like(char_norm),
                                   where=char_norm > 0)
            values *= np.where(is_word, scale_word[row], scale_char[row]).astype(np.float32)
        return counts

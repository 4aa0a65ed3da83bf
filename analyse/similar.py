"""Similar texts: "has someone already suggested this?" while a citizen writes.

`SimilarityIndex` is built once from (id, text) pairs and answers queries for a new
text in milliseconds. This first version compares TF-IDF vectors of German word
stems and word pairs; the analysis issue replaces the vectoriser behind the same
interface.
"""
import re
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer
from sklearn.feature_extraction.text import TfidfVectorizer

_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
_stemmer = snowballstemmer.stemmer("german")

# Words that say nothing about the content of an idea.
STOP_WORDS = frozenset("""
aber alle allem allen aller alles als also am an ander andere anderen auch auf aus bei beim bin bis bitte
bzw da dadurch daher damit dann das dass dein dem den denn der des dessen deshalb die dies diese diesem
diesen dieser dieses doch dort du durch ein eine einem einen einer eines einfach endlich er es etwa etwas
euch fuer für gibt habe haben hat hatte hier hin ich ihr ihre im immer in ins ist ja jede jeden jeder jetzt
kann kein keine koennte könnte man mehr mein meine mit muss müssen nach nicht noch nur ob oder ohne sehr
sein seine sich sie sind so soll sollte sollten statt um und uns unser unsere unter viel viele vom von vor
war waere wäre warum was weil wenn wer werden wie wieder wir wird wo wurde würde zu zum zur über
stadt jena idee vorschlag gut wäre schön
""".split())


@lru_cache(maxsize=200_000)
def stem(word):
    """Snowball stem of one word; cached, because a corpus repeats its vocabulary."""
    return _stemmer.stemWord(word)


def analyse_text(text):
    """Stems of the content words, plus neighbouring stem pairs."""
    stems = [stem(word) for word in _WORD.findall((text or "").lower()) if word not in STOP_WORDS]
    return stems + [f"{a} {b}" for a, b in zip(stems, stems[1:])]


@dataclass(frozen=True)
class Match:
    id: object
    score: float


class SimilarityIndex:
    """Nearest texts by cosine similarity of TF-IDF vectors."""

    def __init__(self, documents, min_score=0.12):
        documents = [(doc_id, text) for doc_id, text in documents if (text or "").strip()]
        self.ids = [doc_id for doc_id, _text in documents]
        self.min_score = min_score
        self._vectoriser = None
        self._matrix = None
        if documents:
            self._vectoriser = TfidfVectorizer(analyzer=analyse_text, sublinear_tf=True, min_df=1)
            try:
                self._matrix = self._vectoriser.fit_transform([text for _id, text in documents])
            except ValueError:  # only stop words everywhere
                self._vectoriser = None

    def __len__(self):
        return len(self.ids)

    def query(self, text, limit=5, exclude=()):
        """Up to `limit` Matches for `text`, best first, above the minimum score."""
        if self._vectoriser is None or not analyse_text(text):
            return []
        vector = self._vectoriser.transform([text])
        scores = (self._matrix @ vector.T).toarray().ravel()
        excluded = set(exclude)
        order = scores.argsort()[::-1]
        matches = []
        for position in order:
            score = float(scores[position])
            if score < self.min_score:
                break
            if self.ids[position] in excluded:
                continue
            matches.append(Match(self.ids[position], round(score, 3)))
            if len(matches) == limit:
                break
        return matches

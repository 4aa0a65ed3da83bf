"""German text preprocessing: spaCy's tokenizer and lookup lemmatiser, stop words, compounds.

Only the tokenizer and the lemma lookup table of `spacy.blank("de")` are used (no
statistical model, nothing downloaded): the lookup table comes with the
`spacy-lookups-data` package. Running the whole `nlp.pipe` would cost a Doc object
and a pipeline step per text; tokenising with `nlp.tokenizer.pipe` and looking the
lemma up ourselves, cached per distinct token, gives the same lemmas several times
faster, because a collection repeats its vocabulary.

The lookup table only knows words it has seen. German compounds (Fahrradstellplätze,
Radwegenetze) are mostly not in it, so an unknown capitalised word is lemmatised
through its longest known last part (Stellplätze -> Stellplatz gives
Fahrradstellplatz). That the parts of a compound still match the separate words
(Stellplätze für Fahrräder) is the job of the character n-grams in `vectorise.py`.
"""
import re
import sys
import threading
from dataclasses import dataclass
from functools import lru_cache

# Loaded on first use: importing spaCy and the lookup table takes about 1.5 seconds.
_nlp = None
_lemma_table = None
_load_lock = threading.Lock()

# Words of participation texts that say nothing about what an idea is about. They
# are added to spaCy's German stop words.
DOMAIN_STOP_WORDS = frozenset("""
stadt jena idee ideen vorschlag vorschläge vorschlagen bitte danke dank gerne gern leider eigentlich
einfach endlich wirklich vielleicht sinnvoll toll prima super schön gut besser wichtig dringend
bzw usw evtl ggf etc ca mal beispielsweise zb dh ua sowie denke finde meiner meinung würde
wäre sollte sollten könnte könnten müsste müssten wünschen wünsche gibt geben gehen sehen
jahr jahre jahren tag tage mensch menschen leute frage problem bereich möglichkeit seite
""".split())

_SENTENCE_END = frozenset(".!?:")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


def nlp():
    """The shared spaCy pipeline: blank German with the lookup lemmatiser, built once."""
    global _nlp, _lemma_table
    if _nlp is None:
        with _load_lock:
            if _nlp is None:
                import spacy

                pipeline = spacy.blank("de")
                pipeline.add_pipe("lemmatizer", config={"mode": "lookup"})
                pipeline.initialize()
                _lemma_table = pipeline.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
                _nlp = pipeline
    return _nlp


@lru_cache(maxsize=1)
def _stop_words():
    """spaCy's German stop words plus the domain list, lower case; loads spaCy (and the lemma table)."""
    return frozenset(nlp().Defaults.stop_words) | DOMAIN_STOP_WORDS


def _lookup(word):
    """The table's lemma of `word`, or None when the table does not know the word."""
    return _lemma_table.get(word) if word in _lemma_table else None


def _lemma_of_word(word):
    """Lemma of one word without hyphens: the table, then lower case, then the last compound part.

    Lower-case words are only looked up as written: the table has no entries for
    infinitives (they are lemmas already), so "pflanzen" tried as "Pflanzen" would
    become the noun "Pflanze".
    """
    found = _lookup(word)
    if found is not None:
        return found
    if not word[0].isupper():
        return word
    # Sentence-initial adjectives and verbs ("Gefährliche Kreuzung").
    found = _lookup(word.lower())
    if found is not None:
        return found
    if len(word) >= 7:
        # Compounds: the longest known last part of at least four letters decides the ending.
        for start in range(2, len(word) - 3):
            tail = word[start].upper() + word[start + 1:]
            found = _lookup(tail)
            if found is not None:
                return word[:start] + found.lower()
    return word


@lru_cache(maxsize=500_000)
def lemma(token):
    """The lemma of one token as a feature, or None when the token is not a content word.

    The feature is lower case without hyphens, so that "Fahrrad-Stellplätze" and
    "Fahrradstellplätze" are the same term. Stop words are checked on the token and on
    its lemma ("Ideen" -> "Idee").
    """
    if "." in token or "/" in token or "@" in token:
        return None  # abbreviations, URLs, e-mail addresses
    plain = token.replace("-", "")
    if not plain.isalnum() or len(_LETTER.findall(plain)) < 2:
        return None
    words = _stop_words()
    if token.lower() in words:
        return None
    parts = [part for part in token.split("-") if part]
    parts[-1] = _lemma_of_word(parts[-1])
    written = "-".join(parts)
    feature = written.lower().replace("-", "")
    if feature in words or written.lower() in words:
        return None
    return feature


@dataclass(frozen=True)
class Tokens:
    """The content words of one text.

    lemmas: features (lower-case lemmas) in text order.
    surface: the words as they appear in the text, parallel to `lemmas`; for labels.
    initial: parallel to `lemmas`, True where the word begins a sentence or line, where
        German capitalises every word (so its capital says nothing about being a noun).
    bigrams: neighbouring content lemmas not separated by punctuation, "a b".
    """
    lemmas: tuple
    surface: tuple
    initial: tuple
    bigrams: tuple


def _tokens_of_doc(doc):
    lemmas, surface, initial, bigrams = [], [], [], []
    previous = None
    starts_sentence = True
    for token in doc:
        if token.is_punct or token.is_space:
            previous = None  # no word pairs across sentences, list items or lines
            starts_sentence = starts_sentence or token.text in _SENTENCE_END or "\n" in token.text
            continue
        feature = lemma(token.text)
        was_initial, starts_sentence = starts_sentence, False
        if feature is None:
            continue
        lemmas.append(feature)
        surface.append(sys.intern(token.text))  # one string per distinct word, not per occurrence
        initial.append(was_initial)
        if previous is not None:
            bigrams.append(f"{previous} {feature}")
        previous = feature
    return Tokens(tuple(lemmas), tuple(surface), tuple(initial), tuple(bigrams))


def tokenize(texts, batch_size=512):
    """Tokens for each text, in order. `texts` is any iterable of strings (None counts as empty)."""
    tokenizer = nlp().tokenizer
    return [_tokens_of_doc(doc) for doc in tokenizer.pipe(((text or "") for text in texts), batch_size=batch_size)]


def tokenize_one(text):
    """Tokens of a single text (a query while a citizen writes)."""
    return _tokens_of_doc(nlp().tokenizer(text or ""))

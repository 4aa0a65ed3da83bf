"""Fields of action (Handlungsfelder) for ideas: zero-shot from descriptions, or a classifier.

Zero-shot: each field gets a prototype vector from its name, description and seed
terms, in the same TF-IDF space as the ideas. An idea's similarity to each prototype,
turned into shares that sum to one, is its suggestion. Seed terms cannot list every
word citizens use, so the prototypes are refined twice from the ideas that match
them best (pseudo-relevance feedback): "Lastenrad" joins Mobilität because the ideas
that mention Radweg and Fahrrad also mention it.

Classifier: once staff have confirmed enough fields of action (MIN_CONFIRMED ideas,
and at least MIN_PER_CLASS in each of at least two fields), a logistic regression on
the same features plus the zero-shot shares is trained on them, with each field's
prototype as one more (half-weighted) example. Its accuracy is estimated by stratified
cross-validation over the fields with at least MIN_PER_CLASS confirmations, and it is
only used when it beats the zero-shot suggestions on the same confirmed ideas. On the
demo ideas, whose fields are the ones the citizens chose, the zero-shot suggestions
are 74 % right and a classifier trained on 30-60 % of them 73-75 %.
"""
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import normalize

MIN_CONFIRMED = 30
MIN_PER_CLASS = 5
MAX_FOLDS = 5
PROTOTYPE_EXAMPLE_WEIGHT = 0.5  # a field's description counts as half a confirmed idea
# Zero-shot: the softmax temperature turns cosine similarities (differences of a few
# hundredths) into shares; FEEDBACK_* control the refinement of the prototypes.
TEMPERATURE = 0.02
FEEDBACK_ROUNDS = 2
FEEDBACK_SHARE = 0.2  # of the ideas closest to a field, the best fifth refine its prototype
FEEDBACK_MAX = 40
PROTOTYPE_WEIGHT = 0.5  # share of the original description in a refined prototype
FEEDBACK_MIN_MEMBERS = 5  # weight of the character n-gram columns in the prototypes


@dataclass(frozen=True)
class SectorSpec:
    code: str
    name: str
    description: str = ""
    seed_terms: tuple[str, ...] = ()

    def text(self):
        """The text that describes the field for the vectoriser."""
        return f"{self.name}\n{self.description}\n" + "\n".join(self.seed_terms)


def _terms(words):
    return tuple(word.strip() for word in words.split(",") if word.strip())


DEFAULT_SECTORS = (
    SectorSpec(
        "wohngebaeude", "Wohngebäude und Quartiere",
        "Private Wohngebäude und Stadtquartiere: energetische Sanierung und Dämmung, Heizungstausch und "
        "Wärmepumpen, klimafreundlicher Neubau, Beratung und Förderung für Eigentümer, Vermieter und Mieter, "
        "Wohnungsgesellschaften und Genossenschaften, Quartierskonzepte.",
        _terms("Sanierung, energetische Sanierung, Dämmung, Wärmedämmung, Fassade, Fenster, Dach, Altbau, "
               "Neubau, Wohnung, Wohnhaus, Wohngebäude, Mehrfamilienhaus, Einfamilienhaus, Mieter, Vermieter, "
               "Miete, Nebenkosten, Heizkosten, Eigentümer, Hausbesitzer, Wohnungsgesellschaft, Genossenschaft, "
               "Quartier, Nachbarschaft, Heizung, Heizungstausch, Wärmepumpe, Ölheizung, Gasheizung, "
               "Energieberatung, Sanierungsförderung, Passivhaus, Holzbau, Denkmalschutz, Leerstand, "
               "Wohnfläche, Bebauung, Dachbegrünung"),
    ),
    SectorSpec(
        "unternehmen", "Unternehmen",
        "Unternehmen, Handel, Handwerk, Gastronomie und Industrie: Energieeffizienz und Abwärme in Betrieben, "
        "Netzwerke und Beratung für Firmen, betriebliche Mobilität der Beschäftigten, Lieferverkehr, "
        "nachhaltiges Wirtschaften und Wirtschaftsförderung.",
        _terms("Unternehmen, Firma, Betrieb, Gewerbe, Gewerbegebiet, Industrie, Handwerk, Handwerksbetrieb, "
               "Handel, Einzelhandel, Geschäft, Laden, Supermarkt, Gastronomie, Restaurant, Café, Hotel, "
               "Arbeitgeber, Beschäftigte, Mitarbeiter, Jobticket, Dienstrad, Mobilitätsmanagement, Abwärme, "
               "Produktion, Energieeffizienz, Energiemanagement, Lieferverkehr, Logistik, Paketdienst, "
               "Wirtschaft, Wirtschaftsförderung, Klimapakt, Netzwerk, Kammer, Start-up, Werbung, Büro"),
    ),
    SectorSpec(
        "verwaltung", "Kommunale Verwaltung",
        "Die Stadtverwaltung und ihre eigenen Gebäude, Fahrzeuge und Abläufe: städtische Schulen, Kitas, "
        "Bäder und Verwaltungsgebäude, Fuhrpark und Dienstreisen, Beschaffung, Straßenbeleuchtung, "
        "Beschlüsse des Stadtrats, Klimacheck und Vorbildrolle der Verwaltung.",
        _terms("Verwaltung, Stadtverwaltung, Rathaus, Stadtrat, Beschluss, Amt, Behörde, Bürgerservice, "
               "städtisch, kommunal, öffentliche Gebäude, Schulgebäude, Turnhalle, Schwimmbad, Kita, Bauhof, "
               "Fuhrpark, Dienstwagen, Dienstfahrrad, Dienstreise, Beschaffung, Ausschreibung, Vergabe, "
               "Straßenbeleuchtung, Straßenlaterne, LED, Klimacheck, Klimaschutzmanagement, Personal, "
               "Haushalt, Satzung, Bebauungsplan, Digitalisierung, Papier, Kantine, Vorbild, Eigenbetrieb"),
    ),
    SectorSpec(
        "mobilitaet", "Mobilität",
        "Verkehr in der Stadt: Radverkehr und Radwege, Fußverkehr, Bus und Straßenbahn, Bahn, Autoverkehr "
        "und Parken, Tempo und Verkehrssicherheit, Carsharing, Elektromobilität und Ladeinfrastruktur.",
        _terms("Verkehr, Radverkehr, Radweg, Fahrrad, Radfahrer, Fahrradstraße, Fahrradstellplatz, Lastenrad, "
               "Fußverkehr, Fußgänger, Gehweg, Bus, Straßenbahn, Nahverkehr, ÖPNV, Haltestelle, Takt, Ticket, "
               "Fahrplan, Bahn, Bahnhof, Auto, Autoverkehr, Parkplatz, Parken, Parkhaus, Tempo, Tempolimit, "
               "Ampel, Kreuzung, Straße, Fahrbahn, Schulweg, Carsharing, Elektroauto, Ladesäule, Pendler, "
               "Verkehrsberuhigung, Mitfahren"),
    ),
    SectorSpec(
        "energie", "Energieversorgung",
        "Erzeugung und Versorgung mit Strom und Wärme: Photovoltaik und Solaranlagen, Balkonkraftwerke, "
        "Windkraft, Fernwärme und Wärmenetze, Stadtwerke, Speicher, Ökostrom, Bürgerenergie und der Ausstieg "
        "aus Kohle und Gas.",
        _terms("Energie, Strom, Ökostrom, Photovoltaik, PV, Solaranlage, Solarstrom, Solarpark, Solardach, "
               "Balkonkraftwerk, Steckersolar, Solarkataster, Windkraft, Windrad, Windpark, Fernwärme, "
               "Wärmenetz, Nahwärme, Wärmeplanung, Stadtwerke, Energieversorger, erneuerbare Energien, Biogas, "
               "Geothermie, Wasserstoff, Speicher, Batteriespeicher, Heizkraftwerk, Blockheizkraftwerk, "
               "Kraft-Wärme-Kopplung, Stromnetz, Gas, Erdgas, Kohle, Bürgerenergie, Energiegenossenschaft, "
               "Mieterstrom, Freiflächen"),
    ),
    SectorSpec(
        "uebergreifend", "Übergreifend",
        "Themen, die in kein einzelnes Handlungsfeld passen: Bildung und Bewusstsein, Ernährung, Konsum und "
        "Abfall, Reparieren und Teilen, Stadtgrün, Bäume und Klimaanpassung, Information und Beteiligung.",
        _terms("Bildung, Klimabildung, Umweltbildung, Schüler, Kinder, Jugendliche, Bewusstsein, Aufklärung, "
               "Kampagne, Information, Ernährung, Essen, Lebensmittel, regional, saisonal, vegetarisch, Fleisch, "
               "Konsum, Müll, Abfall, Recycling, Verpackung, Plastik, Mehrweg, Reparatur, Reparieren, Teilen, "
               "Tauschen, Secondhand, Grünfläche, Park, Baum, Bäume, Stadtgrün, Begrünung, Garten, Blühwiese, "
               "Hitze, Klimaanpassung, Wasser, Entsiegelung"),
    ),
)


class ZeroShotSectors:
    """Sector shares from similarity to refined prototypes. Learned: `prototypes_` (fields x features)."""

    def __init__(self, sectors, temperature=TEMPERATURE, rounds=FEEDBACK_ROUNDS):
        self.sectors = tuple(sectors)
        self.temperature = temperature
        self.rounds = rounds

    def fit(self, matrix, vectoriser):
        """Build the prototypes with `vectoriser` (fitted on the ideas) and refine them on `matrix`."""
        initial = vectoriser.transform([sector.text() for sector in self.sectors])
        self.prototypes_ = initial
        for _round in range(self.rounds):
            similarity = self._similarity(matrix)
            best = similarity.argmax(axis=1)
            rows = []
            for column in range(len(self.sectors)):
                members = np.flatnonzero(best == column)
                if len(members) < FEEDBACK_MIN_MEMBERS:  # a field must not be bent towards one or two ideas
                    rows.append(initial[column])
                    continue
                take = min(FEEDBACK_MAX, max(1, int(np.ceil(len(members) * FEEDBACK_SHARE))))
                closest = members[np.argsort(-similarity[members, column], kind="stable")[:take]]
                centroid = normalize(sp.csr_matrix(matrix[closest].mean(axis=0)))
                rows.append(PROTOTYPE_WEIGHT * initial[column] + (1 - PROTOTYPE_WEIGHT) * centroid)
            self.prototypes_ = normalize(sp.vstack(rows).tocsr())
        return self

    def _similarity(self, matrix):
        return np.asarray((matrix @ self.prototypes_.T).todense())

    def predict_proba(self, matrix):
        """(ideas x fields) shares, rows sum to one."""
        return softmax(self._similarity(matrix) / self.temperature)

    def get_params(self):
        return {"temperature": self.temperature, "feedback_rounds": self.rounds, "feedback_share": FEEDBACK_SHARE,
                "feedback_max": FEEDBACK_MAX, "prototype_weight": PROTOTYPE_WEIGHT}


def softmax(values):
    shifted = np.exp(values - values.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


@dataclass
class ClassifierReport:
    trained: bool
    training_size: int
    cv_accuracy: float | None
    folds: int
    reason: str
    zero_shot_accuracy: float | None = None  # of the zero-shot suggestions on the same confirmed ideas


class SectorClassifier:
    """Logistic regression on the TF-IDF features plus the zero-shot shares, from staff decisions.

    Besides the confirmed ideas, each field's prototype (its description and seed terms,
    refined on the collection) is one training example, so a field nobody has confirmed
    yet can still be suggested. Cross-validation only scores confirmed ideas; the
    prototypes are always on the training side. `fit` returns a ClassifierReport;
    `predict_proba` is only meaningful when it says trained. Learned: `model_`.
    """

    def __init__(self, seed=0, min_confirmed=MIN_CONFIRMED, min_per_class=MIN_PER_CLASS):
        self.seed = seed
        self.min_confirmed = min_confirmed
        self.min_per_class = min_per_class

    def fit(self, matrix, zero_shot, targets, zero_shot_model):
        """targets: per row the index of the confirmed sector, or -1. zero_shot_model: a fitted ZeroShotSectors."""
        self.model_ = None
        targets = np.asarray(targets)
        fields = zero_shot.shape[1]
        confirmed = np.flatnonzero(targets >= 0)
        counts = np.bincount(targets[confirmed], minlength=fields)
        usable_classes = np.flatnonzero(counts >= self.min_per_class)
        scored = confirmed[np.isin(targets[confirmed], usable_classes)]
        if len(confirmed) < self.min_confirmed:
            return ClassifierReport(False, int(len(confirmed)), None, 0, (
                f"Zu wenige bestätigte Handlungsfelder ({len(confirmed)} von mindestens {self.min_confirmed})."))
        if len(usable_classes) < 2:
            return ClassifierReport(False, int(len(confirmed)), None, 0, (
                f"Zu wenige Handlungsfelder mit mindestens {self.min_per_class} bestätigten Ideen "
                f"({len(usable_classes)}, nötig sind 2)."))
        prototypes = zero_shot_model.prototypes_
        prototype_features = self._features(prototypes, zero_shot_model.predict_proba(prototypes))
        features = self._features(matrix[confirmed], zero_shot[confirmed])
        labels = targets[confirmed]
        folds = int(min(MAX_FOLDS, counts[usable_classes].min()))
        splitter = StratifiedKFold(folds, shuffle=True, random_state=self.seed)
        in_scored = np.isin(confirmed, scored)
        correct = 0
        for train, test in splitter.split(np.flatnonzero(in_scored), labels[in_scored]):
            test_rows = np.flatnonzero(in_scored)[test]
            train_rows = np.setdiff1d(np.arange(len(confirmed)), test_rows)
            model = self._train(features[train_rows], labels[train_rows], prototype_features, fields)
            correct += int(np.sum(model.predict(features[test_rows]) == labels[test_rows]))
        cv_accuracy = correct / len(scored)
        zero_shot_accuracy = float(np.mean(zero_shot[scored].argmax(axis=1) == targets[scored]))
        if cv_accuracy <= zero_shot_accuracy:
            return ClassifierReport(False, int(len(confirmed)), cv_accuracy, folds, (
                f"Der Klassifikator ({cv_accuracy:.0%} richtig in der Kreuzvalidierung) ist nicht besser als die "
                f"Vorschläge aus den Beschreibungen ({zero_shot_accuracy:.0%}); diese werden weiter verwendet."),
                zero_shot_accuracy)
        self.model_ = self._train(features, labels, prototype_features, fields)
        return ClassifierReport(True, int(len(confirmed)), cv_accuracy, folds, (
            f"Trainiert auf {len(confirmed)} bestätigten Ideen; {cv_accuracy:.0%} richtig in der "
            f"{folds}-fachen Kreuzvalidierung (Vorschläge aus den Beschreibungen: {zero_shot_accuracy:.0%})."),
            zero_shot_accuracy)

    def _train(self, features, labels, prototype_features, fields):
        model = LogisticRegression(C=10.0, max_iter=2000, random_state=self.seed)
        weights = np.concatenate([np.ones(len(labels)), np.full(fields, PROTOTYPE_EXAMPLE_WEIGHT)])
        return model.fit(sp.vstack([features, prototype_features]), np.concatenate([labels, np.arange(fields)]),
                         sample_weight=weights)

    @staticmethod
    def _features(matrix, zero_shot):
        return sp.hstack([matrix, sp.csr_matrix(zero_shot.astype(np.float32))], format="csr")

    def predict_proba(self, matrix, zero_shot):
        """(ideas x fields) shares."""
        return self.model_.predict_proba(self._features(matrix, zero_shot))

"""Command line: `python -m analyse cluster|similar|evaluate|balance ...` (see analyse/README.md).

Every problem with the input ends in one German line on stderr ("Fehler: ...") and
exit code 2; tracebacks are for bugs only.
"""
import argparse
import csv
import json
import sys
import time
from collections import Counter

from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from . import __version__, bisko
from .pipeline import DEFAULT_SECTORS, Document, analyse, document_text
from .similar import SimilarityIndex
from .tables import InputError, read_sectors, read_table

EXIT_INPUT = 2
SHOWN_IDS = 10
SECTORS_HELP = (
    "Datei mit eigenen Handlungsfeldern: CSV mit den Spalten code,name,description,seed_terms "
    "(seed_terms: Begriffe durch Kommas getrennt, das Feld in Anführungszeichen) oder JSON-Liste von "
    'Objekten {"code", "name", "description", "seed_terms": [...]}. Ohne Angabe: die sechs Standardfelder.')


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line with the German prefix and exit code 2."""

    def error(self, message):
        self.exit(EXIT_INPUT, f"Fehler: {message} (Hilfe: python -m analyse --help)\n")


def _k(value):
    if value == "auto":
        return value
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"--k muss „auto“ oder eine positive Zahl sein, nicht „{value}“")
    return number


def build_parser():
    parser = _Parser(prog="python -m analyse", description=(
        "Ideen aus einer CSV-Datei gruppieren, ähnliche Ideen finden und die Gruppierung bewerten. "
        "CSV: UTF-8 (auch mit BOM) oder Windows-1252, Trennzeichen Komma, Semikolon oder Tabulator."))
    parser.add_argument("--version", action="version", version=f"analyse {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(command):
        command.add_argument("input", metavar="INPUT.csv", help="CSV-Datei mit einer Kopfzeile")
        command.add_argument("--text-column", required=True, metavar="SPALTE", help="Spalte mit dem Text der Idee")
        command.add_argument("--title-column", metavar="SPALTE", help="Spalte mit dem Titel (zählt doppelt)")
        command.add_argument("--id-column", metavar="SPALTE", help="Spalte mit der Kennung (sonst Zeilennummer)")

    cluster = commands.add_parser("cluster", help="Ideen gruppieren und Handlungsfelder vorschlagen")
    common(cluster)
    cluster.add_argument("--k", type=_k, default="auto", help="Zahl der Gruppen oder „auto“ (Standard)")
    cluster.add_argument("--seed", type=int, default=0, help="Zufallsstartwert (Standard 0)")
    cluster.add_argument("--sectors", metavar="DATEI", help=SECTORS_HELP)
    cluster.add_argument("--output", required=True, metavar="OUT.csv", help=(
        "Ergebnis: eine Zeile je Eingabezeile mit id,cluster,cluster_label,sector,sector_confidence"))

    similar = commands.add_parser("similar", help="Die ähnlichsten Zeilen zu einem Text finden")
    common(similar)
    similar.add_argument("--query", required=True, metavar="TEXT", help="Der Text, zu dem ähnliche gesucht werden")
    similar.add_argument("--top", type=int, default=5, metavar="N", help="Wie viele Treffer (Standard 5)")

    evaluate = commands.add_parser("evaluate", help="Gruppierung mit vorhandenen Themen-Labels vergleichen")
    common(evaluate)
    evaluate.add_argument("--label-column", required=True, metavar="SPALTE", help="Spalte mit dem Themen-Label")
    evaluate.add_argument("--sector-column", metavar="SPALTE", help=(
        "Spalte mit Handlungsfeld-Codes: misst zusätzlich, wie oft der Zero-Shot-Vorschlag stimmt"))
    evaluate.add_argument("--k", type=_k, default="auto", help="Zahl der Gruppen oder „auto“ (Standard)")
    evaluate.add_argument("--seed", type=int, default=0, help="Zufallsstartwert (Standard 0)")
    evaluate.add_argument("--sectors", metavar="DATEI", help=SECTORS_HELP)

    balance = commands.add_parser("balance", help="Energie- und Treibhausgasbilanz nach BISKO berechnen")
    balance.add_argument("input", metavar="ENERGY.csv", help=(
        "Endenergie je Sektor und Energieträger: Spalten sector,carrier,mwh und optional quality (A-D)"))
    balance.add_argument("--factors", required=True, metavar="FACTORS.csv", help=(
        "Emissionsfaktoren: Spalten carrier,t_co2e_per_mwh und optional valid_from, source "
        "(weitere Spalten werden ignoriert)"))
    balance.add_argument("--year", required=True, metavar="JAHR", help="Bilanzjahr")
    balance.add_argument("--population", required=True, metavar="N", help="Einwohnerzahl im Bilanzjahr")
    balance.add_argument("--municipal-in-ghd", action="store_true", help=(
        "Der Versorger hat die kommunalen Einrichtungen in GHD mitgezählt: je Energieträger aus GHD herausrechnen"))
    balance.add_argument("--heat-pump-power-separate", action="store_true", help=(
        "Der Strom enthält den Wärmepumpenstrom nicht: nichts aus dem Strom herausrechnen"))
    balance.add_argument("--json", action="store_true", help="Ergebnis als ein JSON-Objekt ausgeben")
    return parser


def main(argv=None):
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return {"cluster": run_cluster, "similar": run_similar, "evaluate": run_evaluate,
                "balance": run_balance}[args.command](args)
    except InputError as error:  # includes bisko.BalanceError
        print(f"Fehler: {error}", file=sys.stderr)
        return EXIT_INPUT


class _Input:
    """The rows of the input file as Documents (ids: position in the file), and their shown ids."""

    def __init__(self, args):
        table = read_table(args.input)
        texts = table.values(table.column(args.text_column, "--text-column"))
        titles = table.values(table.column(args.title_column, "--title-column")) if args.title_column else None
        self.table = table
        self.shown_ids = (table.values(table.column(args.id_column, "--id-column")) if args.id_column
                          else [str(number) for number in range(1, len(texts) + 1)])
        self.documents = [Document(position, text, titles[position] if titles else "")
                          for position, text in enumerate(texts)]
        if not any(document_text(document).strip() for document in self.documents):
            raise InputError(f"Die Spalte „{args.text_column}“ enthält in keiner Zeile Text.")

    def describe(self, positions):
        """ "Zeilen 3, 7" (or the ids) for a German message, shortened after SHOWN_IDS."""
        shown = ", ".join(self.shown_ids[position] for position in positions[:SHOWN_IDS])
        return shown + (" …" if len(positions) > SHOWN_IDS else "")


def _sectors(args):
    return read_sectors(args.sectors) if args.sectors else DEFAULT_SECTORS


def run_cluster(args):
    data = _Input(args)
    sectors = _sectors(args)
    started = time.perf_counter()
    result = analyse(data.documents, sectors=sectors, k=args.k, seed=args.seed)
    seconds = time.perf_counter() - started
    labels = {cluster.number: cluster.label for cluster in result.clusters}
    try:
        with open(args.output, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "cluster", "cluster_label", "sector", "sector_confidence"])
            for document in data.documents:
                number = result.assignments[document.id]
                suggestion = result.sector_suggestions[document.id]
                assigned = number >= 0 and suggestion.code is not None
                writer.writerow([data.shown_ids[document.id], number, labels.get(number, ""),
                                 suggestion.code if assigned else "",
                                 f"{suggestion.confidence:.3f}" if assigned else ""])
    except OSError as error:
        raise InputError(f"Die Ausgabedatei „{args.output}“ lässt sich nicht schreiben ({error.strerror}).") from None
    mode = "automatisch gewählt" if result.k_automatic else "vorgegeben"
    print(f"{len(data.documents)} Zeilen, {len(result.clusters)} Gruppen (k {mode}), {seconds:.1f} s.")
    if result.empty_ids:
        print(f"{len(result.empty_ids)} Zeilen ohne verwertbaren Text (Gruppe -1): {data.describe(result.empty_ids)}")
    names = {sector.code: sector.name for sector in sectors}
    print(f"{'Nr':>3}  {'Größe':>5}  {'Handlungsfeld':26}  {'Bezeichnung':40}  Beispiel")
    for cluster in result.clusters:
        example = data.documents[cluster.representative_ids[0]]
        print(f"{cluster.number:>3}  {cluster.size:>5}  {names.get(cluster.sector, '')[:26]:26}  "
              f"{cluster.label[:40]:40}  {_shorten(example.title or example.text, 50)}")
    print(f"Ergebnis geschrieben: {args.output}")
    return 0


def run_similar(args):
    data = _Input(args)
    index = SimilarityIndex([(document.id, document_text(document)) for document in data.documents], min_score=0.01)
    matches = index.query(args.query, limit=max(args.top, 1))
    if not matches:
        print("Keine ähnlichen Zeilen gefunden.")
        return 0
    print(f"{'Rang':>4}  {'Ähnlichkeit':>11}  {'id':10}  Text")
    for rank, match in enumerate(matches, start=1):
        document = data.documents[match.id]
        text = f"{document.title}: {document.text}" if document.title else document.text
        print(f"{rank:>4}  {match.score:>11.3f}  {data.shown_ids[match.id][:10]:10}  {_shorten(text, 90)}")
    return 0


def run_evaluate(args):
    data = _Input(args)
    sectors = _sectors(args)
    labels = data.table.values(data.table.column(args.label_column, "--label-column"))
    sector_values = (data.table.values(data.table.column(args.sector_column, "--sector-column"))
                     if args.sector_column else None)
    without_text = [document.id for document in data.documents if not document_text(document).strip()]
    without_label = [document.id for document in data.documents
                     if document_text(document).strip() and not labels[document.id].strip()]
    kept = [document for document in data.documents if document_text(document).strip() and labels[document.id].strip()]
    if not kept:
        raise InputError("Keine Zeile hat zugleich Text und Label.")
    started = time.perf_counter()
    result = analyse(kept, sectors=sectors, k=args.k, seed=args.seed)
    seconds = time.perf_counter() - started
    scored = [document for document in kept if result.assignments[document.id] >= 0]
    truth = [labels[document.id].strip() for document in scored]
    found = [result.assignments[document.id] for document in scored]
    print(f"Zeilen: {len(scored)} ausgewertet; ausgelassen: {len(without_text)} ohne Text, "
          f"{len(without_label)} ohne Label, {len(kept) - len(scored)} ohne verwertbare Wörter.")
    print(f"Cluster: {len(set(found))} (k {'automatisch' if result.k_automatic else 'vorgegeben'})")
    print(f"Labels: {len(set(truth))}")
    print(f"NMI: {normalized_mutual_info_score(truth, found):.3f}")
    print(f"ARI: {adjusted_rand_score(truth, found):.3f}")
    print(f"Purity: {purity(truth, found):.3f}")
    if sector_values is not None:
        _print_sector_accuracy(args, scored, sector_values, result, sectors)
    print(f"Zeit: {seconds:.1f} s")
    return 0


def _print_sector_accuracy(args, scored, sector_values, result, sectors):
    codes = {sector.code for sector in sectors}
    pairs = [(sector_values[document.id].strip(), result.sector_suggestions[document.id].code)
             for document in scored if sector_values[document.id].strip() in codes]
    if not pairs:
        print(f"Handlungsfelder: Die Spalte „{args.sector_column}“ enthält keine der Codes "
              f"{', '.join(sorted(codes))}; keine Genauigkeit berechnet.")
        return
    correct = sum(truth == suggested for truth, suggested in pairs)
    print(f"Handlungsfeld (Zero-Shot) richtig: {correct / len(pairs):.3f} ({correct} von {len(pairs)} Zeilen "
          "mit Handlungsfeld-Code)")


def run_balance(args):
    year = bisko.parse_number(args.year)
    if year is None or year != year.to_integral_value() or int(year) not in bisko.YEARS:
        raise bisko.BalanceError(f"--year muss eine Jahreszahl zwischen {bisko.YEARS.start} und "
                                 f"{bisko.YEARS.stop - 1} sein, nicht „{args.year}“.")
    population = bisko.parse_number(args.population)
    if population is None or population <= 0 or population != population.to_integral_value():
        raise bisko.BalanceError(f"--population muss eine ganze Zahl größer als 0 sein, nicht „{args.population}“.")
    rows = bisko.read_energy_csv(args.input)
    factors = bisko.read_factors_csv(args.factors)
    result = bisko.compute_balance(int(year), int(population), rows, factors,
                                   heat_pump_power_in_electricity=not args.heat_pump_power_separate,
                                   municipal_in_ghd=args.municipal_in_ghd)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        print_balance(result)
    return 0


SECTOR_COLUMNS = {"private_haushalte": "Haushalte", "ghd": "GHD", "industrie": "Industrie",
                  "kommunale_einrichtungen": "Kommunal", "verkehr": "Verkehr"}


def print_balance(result):
    """The balance as readable German tables: carriers x sectors in t CO2e and in MWh, then the key figures."""
    number = bisko.format_number
    print(f"Energie- und Treibhausgasbilanz {result.year} nach BISKO, {number(result.population, 0)} Einwohner/innen")
    cells = {(row.sector, row.carrier): row for row in result.rows}
    for title, attribute, totals in (("Treibhausgase in t CO2e", "t_co2e", result.by_carrier),
                                     ("Endenergie in MWh", "mwh", result.by_carrier_mwh)):
        by_sector = result.by_sector if attribute == "t_co2e" else result.by_sector_mwh
        print()
        print(f"{title:28}" + "".join(f"{label:>13}" for label in SECTOR_COLUMNS.values()) + f"{'Summe':>14}")
        for carrier in totals:
            values = [cells.get((sector, carrier)) for sector in SECTOR_COLUMNS]
            shown = ["–" if cell is None else number(getattr(cell, attribute)) for cell in values]
            print(f"{bisko.carrier_label(carrier)[:28]:28}" + "".join(f"{value:>13}" for value in shown)
                  + f"{number(totals[carrier]):>14}")
        print(f"{'Summe':28}" + "".join(f"{number(by_sector[sector]):>13}" for sector in SECTOR_COLUMNS)
              + f"{number(sum(by_sector.values())):>14}")
    print()
    print(f"Gesamt: {number(result.total_t_co2e)} t CO2e, je Einwohner/in {number(result.per_capita_t_co2e, 2)} t CO2e")
    print(f"Endenergie: {number(result.final_energy_mwh)} MWh "
          "(Umweltwärme voll gezählt, Wärmepumpenstrom nicht doppelt)")
    quality = ("–" if result.quality_index is None else number(result.quality_index, 2))
    ungraded = (f"; {number(result.quality_ungraded_mwh)} MWh ohne Angabe, als D gezählt"
                if result.quality_ungraded_mwh else "")
    print(f"Datengüte: {quality} (A = 1, B = 0,5, C = 0,25, D = 0; nach Endenergie gewichtet{ungraded})")
    options = result.options
    heat_pump = ("Wärmepumpenstrom aus dem Strom herausgerechnet" if options["heat_pump_power_in_electricity"]
                 else "Wärmepumpenstrom nicht im Strom enthalten (nichts herausgerechnet)")
    print(f"Wärmepumpen: Umweltwärme / JAZ {number(options['heat_pump_apf'], 1)} mit dem Strom-Faktor; {heat_pump}")
    print("Kommunale Einrichtungen: " + ("aus GHD herausgerechnet" if options["municipal_in_ghd"]
                                         else "nicht aus GHD herausgerechnet"))
    print("Emissionsfaktoren:")
    for carrier, used in result.factors_used.items():
        since = f"ab {used['valid_from']}" if used["valid_from"] is not None else "ohne Jahr"
        source = f", {used['source']}" if used["source"] else ""
        shown = number(used["t_co2e_per_mwh"], 4)
        print(f"  {bisko.carrier_label(carrier):28} {shown:>8} t CO2e/MWh ({since}{source})")


def purity(truth, found):
    """Share of texts whose cluster's most frequent label is their own label."""
    if not truth:
        return 0.0
    per_cluster = {}
    for label, cluster in zip(truth, found):
        per_cluster.setdefault(cluster, Counter())[label] += 1
    return sum(counts.most_common(1)[0][1] for counts in per_cluster.values()) / len(truth)


def _shorten(text, width):
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[:width - 1] + "…"
